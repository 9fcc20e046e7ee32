package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NodeDataRoot is a directory a node stores torrents under, with the
// capacity and free space of the filesystem holding it (Device names that
// filesystem: roots with the same Device share its space). Error says why
// they could not be read ("" = read fine).
type NodeDataRoot struct {
	Path          string    `json:"path"`
	Device        string    `json:"device"`
	CapacityBytes int64     `json:"capacity_bytes"`
	FreeBytes     int64     `json:"free_bytes"`
	Error         string    `json:"error,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// SetNodeDataRoots replaces node id's data roots with roots (in one
// transaction: roots no longer listed are deleted).
func (db *DB) SetNodeDataRoots(ctx context.Context, id string, roots []NodeDataRoot) error {
	paths := make([]string, len(roots))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		for i, r := range roots {
			paths[i] = r.Path
			if _, err := tx.Exec(ctx, `INSERT INTO node_data_roots (node_id, path, device, capacity_bytes, free_bytes, error, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, now())
				ON CONFLICT (node_id, path) DO UPDATE SET device = EXCLUDED.device, capacity_bytes = EXCLUDED.capacity_bytes,
					free_bytes = EXCLUDED.free_bytes, error = EXCLUDED.error, updated_at = now()`,
				id, r.Path, r.Device, max(r.CapacityBytes, 0), max(r.FreeBytes, 0), r.Error); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM node_data_roots WHERE node_id = $1 AND NOT (path = ANY ($2))`, id, paths)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: record data roots of node %q: %w", id, err)
	}
	return nil
}

// nodeDataRoots reads the data roots of node id ("" = every node), by node.
func (db *DB) nodeDataRoots(ctx context.Context, id string) (map[string][]NodeDataRoot, error) {
	rows, err := db.pool.Query(ctx, `SELECT node_id, path, device, capacity_bytes, free_bytes, error, updated_at
		FROM node_data_roots WHERE $1 = '' OR node_id = $1 ORDER BY node_id, path`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: read node data roots: %w", err)
	}
	out := map[string][]NodeDataRoot{}
	var node string
	var r NodeDataRoot
	_, err = pgx.ForEachRow(rows, []any{&node, &r.Path, &r.Device, &r.CapacityBytes, &r.FreeBytes, &r.Error, &r.UpdatedAt}, func() error {
		out[node] = append(out[node], r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read node data roots: %w", err)
	}
	return out, nil
}
