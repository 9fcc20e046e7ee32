package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartNode records that node id starts: it creates the row if needed,
// clears clean_stop and returns whether the previous stop was clean (a
// node never seen before counts as clean: it has nothing in flight).
func (db *DB) StartNode(ctx context.Context, id, hostname string) (lastStopClean bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT clean_stop FROM nodes WHERE id = $1 FOR UPDATE`, id).Scan(&lastStopClean)
		if errors.Is(err, pgx.ErrNoRows) {
			lastStopClean = true
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO nodes (id, hostname, started_at, last_seen_at, clean_stop)
			VALUES ($1, $2, now(), now(), false)
			ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, started_at = now(),
				last_seen_at = now(), clean_stop = false`, id, hostname)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("catalog: record start of node %q: %w", id, err)
	}
	return lastStopClean, nil
}

// StopNode records a clean stop of node id: everything it had in flight
// has been made durable.
func (db *DB) StopNode(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE nodes SET clean_stop = true, stopped_at = now(), last_seen_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("catalog: record clean stop of node %q: %w", id, err)
	}
	return nil
}

// TouchNode refreshes last_seen_at of a running node.
func (db *DB) TouchNode(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE nodes SET last_seen_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("catalog: touch node %q: %w", id, err)
	}
	return nil
}

// NodeCleanStop reports the clean_stop flag of node id.
func (db *DB) NodeCleanStop(ctx context.Context, id string) (bool, error) {
	var clean bool
	err := db.pool.QueryRow(ctx, `SELECT clean_stop FROM nodes WHERE id = $1`, id).Scan(&clean)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("catalog: node %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("catalog: read node %q: %w", id, err)
	}
	return clean, nil
}

// Node liveness: a running `archivd serve` refreshes its node's
// last_seen_at every NodeHeartbeat; a node not stopped cleanly and seen
// within NodeLiveTTL counts as live (three missed heartbeats: a node
// killed without a clean stop stops counting after at most that long).
const (
	NodeHeartbeat = 10 * time.Second
	NodeLiveTTL   = 45 * time.Second
)

// LiveNode is a node that counts as running.
type LiveNode struct {
	ID         string    `json:"id"`
	Hostname   string    `json:"hostname"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// LiveNodes lists the nodes seen within ttl that have not stopped cleanly,
// by the catalog's clock.
func (db *DB) LiveNodes(ctx context.Context, ttl time.Duration) ([]LiveNode, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, hostname, last_seen_at FROM nodes
		WHERE NOT clean_stop AND last_seen_at > now() - make_interval(secs => $1) ORDER BY id`, ttl.Seconds())
	if err != nil {
		return nil, fmt.Errorf("catalog: list live nodes: %w", err)
	}
	ns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[LiveNode])
	if err != nil {
		return nil, fmt.Errorf("catalog: list live nodes: %w", err)
	}
	return ns, nil
}
