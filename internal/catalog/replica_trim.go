package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Trim and drain (issue 12): the planner's leader marks replicas for
// removal (replicas.remove_at): surplus copies of a torrent with more
// healthy copies than its replicas_max, and the copies on a draining node
// once the torrent has replicas_min healthy copies elsewhere. The node
// holding a marked replica drops it from its engine, deletes its files if
// the planner placed it (placed_by), and deletes the row (DropReplica).

// TrimReplica is one replica of a TrimTorrent, as the trim sees it.
type TrimReplica struct {
	Node string
	Zone string
	// Node state: up, in (not out), draining (admin state).
	Up, In, Draining bool
	// Available: not unavailable. Complete: every piece recorded complete.
	// Damaged: it has findings not repaired.
	Available, Complete, Damaged bool
	// Scrub is the result of its most recently verified range: "ok",
	// "failed", or "" (never scrubbed).
	Scrub string
	// PlacedBy is the planner node that placed it ('' = added on its node).
	PlacedBy string
	// FreeBytes: its node's free space (distinct filesystems of its roots).
	FreeBytes int64
}

// Healthy reports a replica that is a full copy now: complete, available,
// undamaged, on a node up, in and not draining.
func (r TrimReplica) Healthy() bool {
	return r.Complete && r.Available && !r.Damaged && r.Up && r.In && !r.Draining
}

// TrimTorrent is a torrent that may have replicas to remove: more
// replicas (not marked) than its replicas_max, or one on a draining node.
type TrimTorrent struct {
	ID       int64
	Name     string
	Min, Max int
	Replicas []TrimReplica
}

// TrimMark marks the replica of TorrentID on Node for removal, for Reason.
type TrimMark struct {
	TorrentID int64  `json:"torrent_id"`
	Node      string `json:"node"`
	Reason    string `json:"reason"`
}

// TrimPass runs one trim pass as holder, who must lead the planner:
// choose gets the torrents that may have replicas to remove and returns
// the marks to make, which are set in the same transaction (a replica
// already marked keeps its mark). It returns the marks set.
func (db *DB) TrimPass(ctx context.Context, holder string, choose func([]TrimTorrent) []TrimMark) ([]TrimMark, error) {
	var done []TrimMark
	err := db.asLeader(ctx, holder, func(tx pgx.Tx) error {
		var ts []TrimTorrent
		err := withoutNestLoop(ctx, tx, func() (err error) {
			ts, err = trimCandidates(ctx, tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("read torrents with replicas to remove: %w", err)
		}
		if len(ts) == 0 {
			return nil
		}
		done, err = markForRemoval(ctx, tx, choose(ts))
		if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: trim pass: %w", err)
	}
	return done, nil
}

// markForRemoval sets marks ms (one statement for all; a replica already
// marked keeps its mark) and returns those set, in the order of ms.
func markForRemoval(ctx context.Context, tx pgx.Tx, ms []TrimMark) ([]TrimMark, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(ms))
	nodes := make([]string, len(ms))
	reasons := make([]string, len(ms))
	for i, m := range ms {
		ids[i], nodes[i], reasons[i] = m.TorrentID, m.Node, m.Reason
	}
	// A replica given twice is marked with the first reason (DISTINCT ON).
	rows, err := tx.Query(ctx, `UPDATE replicas r SET remove_at = now(), remove_reason = m.reason, updated_at = now()
		FROM (SELECT DISTINCT ON (id, node) id, node, reason FROM unnest($1::bigint[], $2::text[], $3::text[])
			WITH ORDINALITY AS u (id, node, reason, i) ORDER BY id, node, i) m
		WHERE r.torrent_id = m.id AND r.node_id = m.node AND r.remove_at IS NULL
		RETURNING r.torrent_id, r.node_id`, ids, nodes, reasons)
	if err != nil {
		return nil, fmt.Errorf("mark %d replicas for removal: %w", len(ms), err)
	}
	type key struct {
		id   int64
		node string
	}
	set := map[key]bool{}
	var k key
	if _, err := pgx.ForEachRow(rows, []any{&k.id, &k.node}, func() error {
		set[k] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("mark %d replicas for removal: %w", len(ms), err)
	}
	var done []TrimMark
	for _, m := range ms {
		if set[key{m.TorrentID, m.Node}] {
			done = append(done, m)
			delete(set, key{m.TorrentID, m.Node})
		}
	}
	return done, nil
}

// trimCandidates reads the torrents (active, with metadata) with more
// unmarked replicas than their replicas_max or an unmarked one on a
// draining node, each with its unmarked replicas.
func trimCandidates(ctx context.Context, tx pgx.Tx) ([]TrimTorrent, error) {
	rows, err := tx.Query(ctx, `WITH drain AS (
		SELECT coalesce(array_agg(id), '{}') AS ids FROM nodes WHERE admin_state = 'draining'),
	cnt AS (
		SELECT r.torrent_id, count(*) AS reps, bool_or(r.node_id = ANY(drain.ids)) AS draining
		FROM replicas r, drain WHERE r.remove_at IS NULL GROUP BY r.torrent_id),
	cand AS (
		SELECT t.id, t.name, coalesce(t.replicas_min, c.replicas_min) AS rmin, coalesce(t.replicas_max, c.replicas_max) AS rmax
		FROM cnt JOIN torrents t ON t.id = cnt.torrent_id JOIN collections c ON c.id = t.collection_id
		WHERE t.state = 'active' AND c.state = 'active' AND t.metainfo IS NOT NULL
			AND (cnt.reps > coalesce(t.replicas_max, c.replicas_max) OR cnt.draining))
	SELECT cand.id, cand.name, cand.rmin, cand.rmax, r.node_id, coalesce(n.zone, ''),
		n.id IS NOT NULL AND `+nodeUpSQL+`, n.id IS NULL OR n.out_at IS NULL, coalesce(n.admin_state = 'draining', false),
		r.availability <> 'unavailable',
		r.completed_at IS NOT NULL,
		EXISTS (SELECT 1 FROM findings f WHERE f.torrent_id = r.torrent_id AND f.node_id = r.node_id AND f.state <> 'repaired'),
		coalesce((SELECT v.last_result FROM verify_ranges v WHERE v.torrent_id = r.torrent_id AND v.node_id = r.node_id
			AND v.last_verified_at IS NOT NULL ORDER BY v.last_verified_at DESC LIMIT 1), ''),
		r.placed_by,
		coalesce((SELECT sum(f) FROM (SELECT DISTINCT ON (d.device) d.free_bytes AS f FROM node_data_roots d
			WHERE d.node_id = r.node_id AND d.error = '' ORDER BY d.device, d.path) x), 0)::bigint
	FROM cand JOIN replicas r ON r.torrent_id = cand.id AND r.remove_at IS NULL LEFT JOIN nodes n ON n.id = r.node_id
	ORDER BY cand.id, r.node_id`, NodeUpTTL.Seconds())
	if err != nil {
		return nil, err
	}
	var out []TrimTorrent
	var t TrimTorrent
	var r TrimReplica
	_, err = pgx.ForEachRow(rows, []any{&t.ID, &t.Name, &t.Min, &t.Max, &r.Node, &r.Zone, &r.Up, &r.In, &r.Draining,
		&r.Available, &r.Complete, &r.Damaged, &r.Scrub, &r.PlacedBy, &r.FreeBytes}, func() error {
		if len(out) == 0 || out[len(out)-1].ID != t.ID {
			out = append(out, TrimTorrent{ID: t.ID, Name: t.Name, Min: t.Min, Max: t.Max})
		}
		last := &out[len(out)-1]
		last.Replicas = append(last.Replicas, r)
		return nil
	})
	return out, err
}

// RemovingReplica is a replica of this node marked for removal.
type RemovingReplica struct {
	Torrent  Torrent
	Files    []File
	PlacedBy string
	Reason   string
	// SharedDir: another replica on this node has the same data directory
	// (its files are kept: they could be the other's).
	SharedDir bool
}

// RemovingReplicas lists this handle's node's replicas marked for removal,
// with their files.
func (db *DB) RemovingReplicas(ctx context.Context) ([]RemovingReplica, error) {
	rows, err := db.pool.Query(ctx, `SELECT r.torrent_id, r.placed_by, r.remove_reason,
		EXISTS (SELECT 1 FROM replicas o WHERE o.node_id = r.node_id AND o.torrent_id <> r.torrent_id AND o.data_dir = r.data_dir)
		FROM replicas r WHERE r.node_id = $1 AND r.remove_at IS NOT NULL ORDER BY r.torrent_id`, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: list replicas of node %q marked for removal: %w", db.NodeID(), err)
	}
	var out []RemovingReplica
	var id int64
	var by, why string
	var shared bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &by, &why, &shared}, func() error {
		out = append(out, RemovingReplica{Torrent: Torrent{ID: id}, PlacedBy: by, Reason: why, SharedDir: shared})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("catalog: list replicas of node %q marked for removal: %w", db.NodeID(), err)
	}
	for i := range out {
		t, err := db.TorrentByID(ctx, out[i].Torrent.ID)
		if err != nil {
			return nil, err
		}
		out[i].Torrent = t
		if out[i].Files, err = db.Files(ctx, t.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ErrNotMarked is returned (wrapped) by DropReplica for a replica that is
// not marked for removal.
var ErrNotMarked = errors.New("replica not marked for removal")

// DropReplica deletes this handle's node's replica of torrent id, which
// must be marked for removal, with what was recorded of it (piece states,
// verified ranges, findings, engine state), in one transaction.
func (db *DB) DropReplica(ctx context.Context, id int64) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM replicas WHERE torrent_id = $1 AND node_id = $2 AND remove_at IS NOT NULL`, id, db.NodeID())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotMarked
		}
		return dropReplicaRows(ctx, tx, []int64{id}, db.NodeID())
	})
	if err != nil {
		return fmt.Errorf("catalog: delete replica of torrent %d on node %q: %w", id, db.NodeID(), err)
	}
	return nil
}

// dropReplicaRows deletes what is recorded per replica of torrents ids on node.
func dropReplicaRows(ctx context.Context, tx pgx.Tx, ids []int64, node string) error {
	for _, tbl := range []string{"piece_chunks", "verify_ranges", "findings", "engine_states"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+tbl+` WHERE torrent_id = ANY($1) AND node_id = $2`, ids, node); err != nil {
			return fmt.Errorf("delete %s rows: %w", tbl, err)
		}
	}
	return nil
}

// NodeReplicas is what a node holds: its replicas (while it drains, what
// is left on it), how many of them are marked for removal, and of how many
// torrents it holds the only replica (no other node has one).
type NodeReplicas struct {
	Replicas int64 `json:"replicas"`
	Removing int64 `json:"removing"`
	OnlyCopy int64 `json:"only_copy"`
}
