package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EngineState is what a torrent does in a running daemon's engine.
type EngineState string

// Engine states. A torrent in no running engine has no state.
const (
	EngineSeeding          EngineState = "seeding"
	EngineChecking         EngineState = "checking" // its data on disk is being hashed
	EngineDownloading      EngineState = "downloading"
	EngineFetchingMetadata EngineState = "fetching_metadata"
)

// TorrentEngineState is a torrent's engine state as the catalog has it.
type TorrentEngineState struct {
	State EngineState `json:"state"`
	Node  string      `json:"node"`
	Since time.Time   `json:"since"`
	// NodeSeen is when the node last said it runs (nodes.last_seen_at).
	NodeSeen *time.Time `json:"node_seen,omitempty"`
}

// SetEngineStates records changed engine states of node's torrents in one
// statement; an empty state removes the torrent's row (it left the engine).
func (db *DB) SetEngineStates(ctx context.Context, node string, changed map[int64]EngineState) error {
	if len(changed) == 0 {
		return nil
	}
	var ids, gone []int64
	var states []string
	for id, st := range changed {
		if st == "" {
			gone = append(gone, id)
			continue
		}
		ids, states = append(ids, id), append(states, string(st))
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM engine_states WHERE torrent_id = ANY($1) AND node_id = $2`, gone, node); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO engine_states (torrent_id, node_id, state)
			SELECT d.id, $1, d.state FROM unnest($2::bigint[], $3::text[]) AS d(id, state)
			JOIN torrents t ON t.id = d.id
			ON CONFLICT (torrent_id, node_id) DO UPDATE SET state = EXCLUDED.state, since = now()`,
			node, ids, states)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: record engine states of %d torrents: %w", len(changed), err)
	}
	return nil
}

// ClearEngineStates removes every engine state of node (it stopped, or
// starts afresh).
func (db *DB) ClearEngineStates(ctx context.Context, node string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM engine_states WHERE node_id = $1`, node); err != nil {
		return fmt.Errorf("catalog: clear engine states of node %q: %w", node, err)
	}
	return nil
}

// EngineStates returns the engine state of every torrent some node
// records (this node's where it runs the torrent too), by torrent id, in one query. Only nodes that have not recorded
// a clean stop count; a node killed without one leaves its states until
// it starts again (NodeSeen tells how fresh they are).
// With ids, only those torrents are read.
func (db *DB) EngineStates(ctx context.Context, ids ...int64) (map[int64]TorrentEngineState, error) {
	q := `SELECT e.torrent_id, e.state, e.node_id, e.since, n.last_seen_at
		FROM engine_states e JOIN nodes n ON n.id = e.node_id WHERE NOT n.clean_stop`
	args := []any{db.NodeID()}
	if len(ids) > 0 {
		q += ` AND e.torrent_id = ANY($2)`
		args = append(args, ids)
	}
	// Several nodes may run a torrent: this node's state comes last and wins.
	q += ` ORDER BY e.node_id = $1, e.node_id`
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: read engine states: %w", err)
	}
	out := map[int64]TorrentEngineState{}
	var id int64
	var s TorrentEngineState
	_, err = pgx.ForEachRow(rows, []any{&id, &s.State, &s.Node, &s.Since, &s.NodeSeen}, func() error {
		if s.NodeSeen != nil {
			seen := *s.NodeSeen
			s.NodeSeen = &seen
		}
		out[id] = s
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read engine states: %w", err)
	}
	return out, nil
}
