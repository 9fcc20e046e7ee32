package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SetNodeOut marks node id out by the operator (out = true: its replicas
// stop counting and are placed elsewhere; they stay on it, and it keeps
// serving them, until it is in again or drained) or in again (out =
// false: its replicas count again; the planner then trims the copies
// above replicas_max). An operator's out is never undone by the node
// starting (unlike an automatic one). It reports whether anything
// changed; ErrNotFound (wrapped) when there is no such node.
func (db *DB) SetNodeOut(ctx context.Context, id string, out bool, reason string) (changed bool, err error) {
	q := `UPDATE nodes SET out_at = NULL, out_reason = '', out_auto = false WHERE id = $1 AND out_at IS NOT NULL`
	args := []any{id}
	if out {
		q = `UPDATE nodes SET out_at = now(), out_reason = $2, out_auto = false WHERE id = $1 AND out_at IS NULL`
		args = append(args, reason)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var found string
		if err := tx.QueryRow(ctx, `SELECT id FROM nodes WHERE id = $1 FOR UPDATE`, id).Scan(&found); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, q, args...)
		changed = tag.RowsAffected() > 0
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("catalog: node %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("catalog: set node %q out=%t: %w", id, out, err)
	}
	return changed, nil
}

// nodeReplicas counts the replicas of every node (see NodeReplicas), or of
// node id alone when id is not "".
func (db *DB) nodeReplicas(ctx context.Context, id string) (map[string]NodeReplicas, error) {
	// Only copy: the torrent has one replica (this one; a node holds at
	// most one per torrent).
	rows, err := db.pool.Query(ctx, `WITH per AS (SELECT torrent_id, count(*) AS reps FROM replicas GROUP BY torrent_id)
		SELECT r.node_id, count(*), count(*) FILTER (WHERE r.remove_at IS NOT NULL), count(*) FILTER (WHERE per.reps = 1)
		FROM replicas r JOIN per ON per.torrent_id = r.torrent_id WHERE $1 = '' OR r.node_id = $1 GROUP BY r.node_id`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: count the replicas of the nodes: %w", err)
	}
	out := map[string]NodeReplicas{}
	var node string
	var n NodeReplicas
	if _, err := pgx.ForEachRow(rows, []any{&node, &n.Replicas, &n.Removing, &n.OnlyCopy}, func() error {
		out[node] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("catalog: count the replicas of the nodes: %w", err)
	}
	return out, nil
}
