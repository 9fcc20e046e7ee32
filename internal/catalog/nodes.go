package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// StartNode records that node id starts: it creates the row if needed,
// clears clean_stop, brings it in again if it was marked out automatically, claims the unclaimed replicas (see claimUnowned),
// restarts the progress clock of its placed replicas not complete (see
// StalledSQL: they could not fetch while it was away) and returns whether the previous stop was clean (a
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
				last_seen_at = now(), clean_stop = false,
				out_at = CASE WHEN nodes.out_auto THEN NULL ELSE nodes.out_at END,
				out_reason = CASE WHEN nodes.out_auto THEN '' ELSE nodes.out_reason END, out_auto = false`, id, hostname)
		if err != nil {
			return err
		}
		if _, err = claimUnowned(ctx, tx, id); err != nil {
			return err
		}
		// Its placed replicas could not fetch while it was away: their
		// progress clock starts again (see StalledSQL).
		_, err = tx.Exec(ctx, `UPDATE replicas SET progress_at = now() WHERE node_id = $1 AND placed_by <> '' AND completed_at IS NULL`, id)
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
// within NodeUpTTL (by the catalog's clock) is up, any other node is down
// (a node killed without a clean stop is down after at most that long:
// three missed heartbeats).
const (
	NodeHeartbeat = 10 * time.Second
	NodeUpTTL     = 30 * time.Second
	// NodeLiveTTL is NodeUpTTL: a live node is an up node.
	NodeLiveTTL = NodeUpTTL
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

// NodeAdmin is the state an operator sets on a node, separate from up or
// down: active (the default), draining (everything is to move off it) or
// maintenance (expected to be away: never marked out automatically).
type NodeAdmin string

const (
	NodeActive      NodeAdmin = "active"
	NodeDraining    NodeAdmin = "draining"
	NodeMaintenance NodeAdmin = "maintenance"
)

// NodeInfo is what a running node tells the others about itself; it is
// written at every heartbeat, so a reloaded config shows at once.
type NodeInfo struct {
	Name    string   `json:"name"`
	BTAddr  string   `json:"bt_addr"` // host:port other nodes dial for BitTorrent
	Zone    string   `json:"zone"`
	Tags    []string `json:"tags"`
	Version string   `json:"version"`
}

// Node is the one read model of a node.
type Node struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	NodeInfo
	// Up: not stopped cleanly and seen within NodeUpTTL by the catalog's
	// clock. DownSeconds is how long it has been down (0 while up).
	Up          bool       `json:"up"`
	DownSeconds float64    `json:"down_seconds"`
	CleanStop   bool       `json:"clean_stop"`
	StartedAt   *time.Time `json:"started_at"`
	StoppedAt   *time.Time `json:"stopped_at"`
	LastSeenAt  *time.Time `json:"last_seen_at"`
	Admin       NodeAdmin  `json:"admin_state"`
	AdminAt     *time.Time `json:"admin_state_at"`
	AdminReason string     `json:"admin_reason"`
	// Out: its replicas are to be placed elsewhere; OutAuto when it was
	// marked out for being down too long (it is in again when it starts).
	Out       bool       `json:"out"`
	OutAt     *time.Time `json:"out_at"`
	OutReason string     `json:"out_reason"`
	OutAuto   bool       `json:"out_auto"`
	// Roots are its data roots; CapacityBytes and FreeBytes sum them over
	// distinct filesystems.
	Roots         []NodeDataRoot `json:"data_roots"`
	CapacityBytes int64          `json:"capacity_bytes"`
	FreeBytes     int64          `json:"free_bytes"`
	// Replicas: what it holds (while it drains, what is left on it).
	Replicas NodeReplicas `json:"replicas"`
}

// Status is "up" or "down", with the admin state and "out" when set:
// "down, maintenance", "down, out".
func (n Node) Status() string {
	s := "down"
	if n.Up {
		s = "up"
	}
	if n.Admin != NodeActive && n.Admin != "" {
		s += ", " + string(n.Admin)
	}
	if n.Out {
		s += ", out"
	}
	return s
}

// nodeUpSQL is whether a node row is up, by the catalog's clock; $1 is
// NodeUpTTL in seconds.
const nodeUpSQL = `(NOT n.clean_stop AND n.last_seen_at > now() - make_interval(secs => $1))`

const nodeSelect = `SELECT n.id, n.hostname, n.name, n.bt_addr, n.zone, n.tags, n.version,
	` + nodeUpSQL + `,
	CASE WHEN ` + nodeUpSQL + ` THEN 0
		ELSE coalesce(extract(epoch FROM now() - greatest(n.last_seen_at, n.stopped_at))::float8, 0) END,
	n.clean_stop, n.started_at, n.stopped_at, n.last_seen_at,
	n.admin_state, n.admin_state_at, n.admin_reason,
	n.out_at IS NOT NULL, n.out_at, n.out_reason, n.out_auto
	FROM nodes n`

func scanNode(r pgx.CollectableRow) (Node, error) {
	var n Node
	err := r.Scan(&n.ID, &n.Hostname, &n.Name, &n.BTAddr, &n.Zone, &n.Tags, &n.Version, &n.Up, &n.DownSeconds,
		&n.CleanStop, &n.StartedAt, &n.StoppedAt, &n.LastSeenAt, &n.Admin, &n.AdminAt, &n.AdminReason,
		&n.Out, &n.OutAt, &n.OutReason, &n.OutAuto)
	return n, err
}

// Nodes lists every node of the catalog by id, with its data roots.
func (db *DB) Nodes(ctx context.Context) ([]Node, error) {
	ns, err := db.NodeStates(ctx)
	if err != nil {
		return nil, err
	}
	roots, err := db.nodeDataRoots(ctx, "")
	if err != nil {
		return nil, err
	}
	reps, err := db.nodeReplicas(ctx, "")
	if err != nil {
		return nil, err
	}
	for i := range ns {
		ns[i].setRoots(roots[ns[i].ID])
		ns[i].Replicas = reps[ns[i].ID]
	}
	return ns, nil
}

// NodeStates lists every node of the catalog by id as Nodes does, without
// its data roots and replica counts (which count every replica): what the
// planner's out decision needs.
func (db *DB) NodeStates(ctx context.Context) ([]Node, error) {
	rows, err := db.pool.Query(ctx, nodeSelect+` ORDER BY n.id`, NodeUpTTL.Seconds())
	if err != nil {
		return nil, fmt.Errorf("catalog: list nodes: %w", err)
	}
	ns, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("catalog: list nodes: %w", err)
	}
	return ns, nil
}

// Node reads one node; ErrNotFound (wrapped) when there is none.
func (db *DB) Node(ctx context.Context, id string) (Node, error) {
	rows, err := db.pool.Query(ctx, nodeSelect+` WHERE n.id = $2`, NodeUpTTL.Seconds(), id)
	if err != nil {
		return Node{}, fmt.Errorf("catalog: read node %q: %w", id, err)
	}
	n, err := pgx.CollectExactlyOneRow(rows, scanNode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Node{}, fmt.Errorf("catalog: node %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Node{}, fmt.Errorf("catalog: read node %q: %w", id, err)
	}
	roots, err := db.nodeDataRoots(ctx, id)
	if err != nil {
		return Node{}, err
	}
	n.setRoots(roots[id])
	reps, err := db.nodeReplicas(ctx, id)
	if err != nil {
		return Node{}, err
	}
	n.Replicas = reps[id]
	return n, nil
}

func (n *Node) setRoots(roots []NodeDataRoot) {
	n.Roots = roots
	if n.Roots == nil {
		n.Roots = []NodeDataRoot{}
	}
	seen := map[string]bool{}
	for _, r := range roots {
		if r.Error != "" || seen[r.Device] {
			continue
		}
		seen[r.Device] = true
		n.CapacityBytes += r.CapacityBytes
		n.FreeBytes += r.FreeBytes
	}
}

// HeartbeatNode refreshes a running node's last_seen_at and what it tells
// the others (info). ErrNotFound (wrapped) when the node has no row.
func (db *DB) HeartbeatNode(ctx context.Context, id string, info NodeInfo) error {
	tags := info.Tags
	if tags == nil {
		tags = []string{}
	}
	tag, err := db.pool.Exec(ctx, `UPDATE nodes SET last_seen_at = now(), name = $2, bt_addr = $3, zone = $4,
		tags = $5, version = $6 WHERE id = $1`, id, info.Name, info.BTAddr, info.Zone, tags, info.Version)
	if err != nil {
		return fmt.Errorf("catalog: heartbeat of node %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("catalog: heartbeat of node %q: %w", id, ErrNotFound)
	}
	return nil
}

// ErrNodeUp is returned (wrapped) when forgetting a node that is up.
var ErrNodeUp = errors.New("node is up")

// ErrNodeInUse is returned (wrapped) when forgetting a node that other
// rows (torrents, replicas) still refer to.
var ErrNodeInUse = errors.New("node still holds data")

// SetNodeAdmin moves node id's admin state from from to to (with the
// operator's reason) and returns the state it found: from when it changed
// it; anything else when it changed nothing (to: already there).
func (db *DB) SetNodeAdmin(ctx context.Context, id string, from, to NodeAdmin, reason string) (found NodeAdmin, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT admin_state FROM nodes WHERE id = $1 FOR UPDATE`, id).Scan(&found); err != nil {
			return err
		}
		if found != from || from == to {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE nodes SET admin_state = $2, admin_state_at = now(), admin_reason = $3 WHERE id = $1`,
			id, string(to), reason)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("catalog: node %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("catalog: set admin state of node %q to %s: %w", id, to, err)
	}
	return found, nil
}

// ForgetNode deletes a node that is down and holds nothing: it refuses
// (ErrNodeUp) a node that is up and (ErrNodeInUse, naming the table) one
// that holds a replica not marked for removal or that rows of other tables
// still refer to. Its replicas marked for removal (with what was recorded
// of them), engine states and data roots go with it.
func (db *DB) ForgetNode(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var up bool
		err := tx.QueryRow(ctx, `SELECT `+nodeUpSQL+` FROM nodes n WHERE n.id = $2 FOR UPDATE`, NodeUpTTL.Seconds(), id).Scan(&up)
		if err != nil {
			return err
		}
		if up {
			return ErrNodeUp
		}
		// Its replicas marked for removal go with it (a node that left
		// before deleting them); any other replica refuses.
		var replicas, only int64
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM replicas o
			WHERE o.torrent_id = r.torrent_id AND o.node_id <> r.node_id))
			FROM replicas r WHERE r.node_id = $1 AND r.remove_at IS NULL`, id).Scan(&replicas, &only); err != nil {
			return err
		}
		if replicas > 0 {
			return fmt.Errorf("%w: it holds %d replicas (the only one of %d torrents)", ErrNodeInUse, replicas, only)
		}
		rows, err := tx.Query(ctx, `DELETE FROM replicas WHERE node_id = $1 RETURNING torrent_id`, id)
		if err != nil {
			return err
		}
		marked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if err := dropReplicaRows(ctx, tx, marked, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM engine_states WHERE node_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, id)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation: another table refers to it
			return fmt.Errorf("%w: rows of %s refer to it", ErrNodeInUse, pe.TableName)
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("catalog: node %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("catalog: forget node %q: %w", id, err)
	}
	return nil
}

// NodeCounts counts nodes by what an operator asks first. A node counts
// once in Up or Down and, besides, in each admin state and Out it is in.
type NodeCounts struct {
	Total       int `json:"total"`
	Up          int `json:"up"`
	Down        int `json:"down"`
	Draining    int `json:"draining"`
	Maintenance int `json:"maintenance"`
	Out         int `json:"out"`
}

// CountNodes counts ns.
func CountNodes(ns []Node) NodeCounts {
	var c NodeCounts
	for _, n := range ns {
		c.Total++
		if n.Up {
			c.Up++
		} else {
			c.Down++
		}
		switch n.Admin {
		case NodeDraining:
			c.Draining++
		case NodeMaintenance:
			c.Maintenance++
		}
		if n.Out {
			c.Out++
		}
	}
	return c
}
