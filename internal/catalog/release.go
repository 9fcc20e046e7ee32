package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReleaseTorrent is the operator's "repair it anyway" (`archivd resume
// --force`, after the re-check left the torrent unavailable): it clears a
// torrent's unavailability and releases its held findings to open, in one
// transaction. The released findings' pieces become unknown: a hold
// leaves them recorded complete (the re-check judges recorded-complete
// pieces), and released as damage they must not stay so, or the engine
// would serve them as good. The seeder hashes unknown pieces when it adds
// the torrent (and marks it unavailable again if it is all gone) and
// fetches the bad ones; the next verify run re-reads the released ranges. It reports whether the torrent
// was unavailable and how many findings were released.
func (db *DB) ReleaseTorrent(ctx context.Context, id int64) (wasUnavailable bool, released int64, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE replicas SET availability = 'ok', availability_cause = '', availability_reason = '', updated_at = now()
			WHERE torrent_id = $1 AND node_id = $2 AND availability = 'unavailable'`, id, db.NodeID())
		if err != nil {
			return err
		}
		wasUnavailable = tag.RowsAffected() > 0
		rows, err := tx.Query(ctx, `UPDATE findings SET state = 'open', state_changed_at = now()
			WHERE torrent_id = $1 AND node_id = $2 AND state = 'held' RETURNING piece, piece_count`, id, db.NodeID())
		if err != nil {
			return err
		}
		var pieces []int
		var first, n int
		if _, err := pgx.ForEachRow(rows, []any{&first, &n}, func() error {
			released++
			for p := first; p < first+n; p++ {
				pieces = append(pieces, p)
			}
			return nil
		}); err != nil {
			return err
		}
		return forgetPieces(ctx, tx, db.NodeID(), id, pieces)
	})
	if err != nil {
		return false, 0, fmt.Errorf("catalog: release torrent %d: %w", id, err)
	}
	return wasUnavailable, released, nil
}
