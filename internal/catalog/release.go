package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReleaseTorrent is the operator's "repair it anyway" (`archivd resume
// --force`, after the re-check left the torrent unavailable): it clears a
// torrent's unavailability and releases its held findings to open, in one
// transaction. The seeder then checks the data again when it adds the
// torrent (and marks it unavailable again if it is all gone); the next
// verify run re-reads the released ranges. It reports whether the torrent
// was unavailable and how many findings were released.
func (db *DB) ReleaseTorrent(ctx context.Context, id int64) (wasUnavailable bool, released int64, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE torrents SET availability = 'ok', availability_cause = '', availability_reason = '', updated_at = now()
			WHERE id = $1 AND availability = 'unavailable'`, id)
		if err != nil {
			return err
		}
		wasUnavailable = tag.RowsAffected() > 0
		tag, err = tx.Exec(ctx, `UPDATE findings SET state = 'open' WHERE torrent_id = $1 AND state = 'held'`, id)
		released = tag.RowsAffected()
		return err
	})
	if err != nil {
		return false, 0, fmt.Errorf("catalog: release torrent %d: %w", id, err)
	}
	return wasUnavailable, released, nil
}
