package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReleaseTorrent is the operator's "repair it anyway" (`archivd resume
// --force`, after the re-check left the torrent unavailable): it clears a
// torrent's unavailability and releases its held findings to open, in one
// transaction. The released findings' pieces become unknown (a hold
// already made them so, HoldVerifyFindings; this also covers holds made
// before it did): released as damage they must not stay recorded complete,
// or the engine would serve them as good. The seeder hashes unknown pieces when it adds
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

// HoldVerifyFindings sets findings ids of torrent torrentID held (repair
// held by the mass-failure guard; the torrent is made unavailable) and
// makes their pieces unknown, in one transaction: read bad, they must not
// stay recorded complete, and neither recorded not complete (that would be
// a fetch over data that may only be unmounted). The re-check judges them
// with the recorded-complete pieces (verify.Recheck).
func (db *DB) HoldVerifyFindings(ctx context.Context, torrentID int64, ids []int64) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE findings SET state = 'held', state_changed_at = now()
			WHERE id = ANY($1) AND torrent_id = $2 AND state <> 'repaired' RETURNING piece, piece_count`, ids, torrentID)
		if err != nil {
			return err
		}
		var pieces []int
		var first, n int
		if _, err := pgx.ForEachRow(rows, []any{&first, &n}, func() error {
			for p := first; p < first+n; p++ {
				pieces = append(pieces, p)
			}
			return nil
		}); err != nil {
			return err
		}
		return forgetPieces(ctx, tx, db.NodeID(), torrentID, pieces)
	})
	if err != nil {
		return fmt.Errorf("catalog: hold %d findings of torrent %d: %w", len(ids), torrentID, err)
	}
	return nil
}
