package catalog

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ChangeLogTTL is how long rows of the change log (catalog_changes) are
// kept: far longer than any poll interval; a poller away longer
// reconnects and resyncs anyway.
const ChangeLogTTL = time.Hour

// changeCursor is a poller's position in the change log: every row of a
// transaction at or after xmin (the oldest transaction still running at
// the previous read) is read again, and seen drops those delivered.
type changeCursor struct {
	started bool
	xmin    uint64
	seen    map[int64]uint64 // row id -> xid, for xids >= xmin
}

// readChanges returns the changes committed since the previous read (none
// at the first, which only takes the position). Rows whose id is lower
// than one already read but committed later are not skipped.
func (db *DB) readChanges(ctx context.Context, cur *changeCursor) ([]Change, error) {
	if !cur.started {
		var xmin string
		if err := db.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&xmin); err != nil {
			return nil, fmt.Errorf("catalog: read the change log position: %w", err)
		}
		x, err := strconv.ParseUint(xmin, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("catalog: change log position %q: %w", xmin, err)
		}
		*cur = changeCursor{started: true, xmin: x, seen: map[int64]uint64{}}
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
		c.id, c.xid::text, c.tbl, c.op, c.row_id
		FROM (SELECT 1) s LEFT JOIN catalog_changes c ON c.xid >= $1::text::xid8 ORDER BY c.id`,
		strconv.FormatUint(cur.xmin, 10))
	if err != nil {
		return nil, fmt.Errorf("catalog: read the change log: %w", err)
	}
	defer rows.Close()
	var out []Change
	var xmin string
	for rows.Next() {
		var id, rowID *int64
		var xid, tbl, op *string
		if err := rows.Scan(&xmin, &id, &xid, &tbl, &op, &rowID); err != nil {
			return nil, fmt.Errorf("catalog: read the change log: %w", err)
		}
		if id == nil {
			continue // no row: only the position
		}
		if _, dup := cur.seen[*id]; dup {
			continue
		}
		x, err := strconv.ParseUint(*xid, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("catalog: change log row %d: xid %q: %w", *id, *xid, err)
		}
		cur.seen[*id] = x
		out = append(out, Change{Table: *tbl, Op: *op, ID: *rowID})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: read the change log: %w", err)
	}
	next, err := strconv.ParseUint(xmin, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("catalog: change log position %q: %w", xmin, err)
	}
	cur.xmin = next
	for id, x := range cur.seen {
		if x < next {
			delete(cur.seen, id)
		}
	}
	return out, nil
}

// PruneChanges deletes change log rows older than ChangeLogTTL (by the
// database's clock).
func (db *DB) PruneChanges(ctx context.Context, batch int) (int64, error) {
	return db.deleteBatches(ctx, "catalog changes", `DELETE FROM catalog_changes WHERE id IN (
		SELECT id FROM catalog_changes WHERE at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2)`,
		ChangeLogTTL.Seconds(), batch)
}
