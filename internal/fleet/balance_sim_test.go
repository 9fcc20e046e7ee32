package fleet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

// sim is a fleet on a real catalog whose nodes are simulated: each step a
// node up settles the replicas placed on it, fetches those a node up holds
// complete, and drops those marked for removal, as archivd serve does; the
// planner's passes are the real ones, led by "lead" (a node that holds
// nothing).
type sim struct {
	t     *testing.T
	ctx   context.Context
	db    *catalog.DB
	p     *Planner
	next  byte
	zones map[string]string
}

const simPiece = 1 << 18

func newSim(t *testing.T, pol Policy, collections ...catalog.Collection) *sim {
	t.Helper()
	s := &sim{t: t, ctx: context.Background(), db: pgtest.New(t), zones: map[string]string{}}
	for _, c := range collections {
		if _, err := s.db.CreateCollection(s.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s.p = &Planner{DB: s.db.ForNode("lead"), Node: "lead", Log: zerolog.Nop(), Policy: func() Policy { return pol }}
	return s
}

// join starts node id in zone with capacity (free: all of it).
func (s *sim) join(id, zone string, capacity int64) {
	s.t.Helper()
	s.zones[id] = zone
	if _, err := s.db.StartNode(s.ctx, id, "h"); err != nil {
		s.t.Fatal(err)
	}
	if err := s.db.HeartbeatNode(s.ctx, id, catalog.NodeInfo{Zone: zone}); err != nil {
		s.t.Fatal(err)
	}
	if err := s.db.SetNodeDataRoots(s.ctx, id, []catalog.NodeDataRoot{{Path: "/srv/" + id, Device: "dev-" + id,
		CapacityBytes: capacity, FreeBytes: capacity}}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sim) stop(id string) {
	s.t.Helper()
	if err := s.db.StopNode(s.ctx, id); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sim) exec(sql string, args ...any) { s.t.Helper(); pgtest.Exec(s.t, s.db, sql, args...) }

// add adds a torrent of pieces pieces to collection coll on node, complete
// there, and returns its id.
func (s *sim) add(coll, node string, pieces int) int64 {
	s.t.Helper()
	s.next++
	var ih [20]byte
	ih[0], ih[1] = s.next, byte(pieces)
	name := fmt.Sprintf("t%03d", s.next)
	tor, err := s.db.ForNode(node).AddTorrent(s.ctx, catalog.NewTorrent{Collection: coll, InfoHash: ih, Name: name,
		Metainfo: []byte("d4:infod...e"), PieceLength: simPiece, PieceCount: pieces, TotalLength: int64(pieces) * simPiece,
		DataDir: "/srv/" + node + "/" + name, Files: []catalog.File{{Index: 0, Path: "x", Length: int64(pieces) * simPiece}}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.complete(node, tor.ID)
	return tor.ID
}

// complete records every piece of node's replicas of torrents ids
// complete, as the node's store does (catalog.StorePieces).
func (s *sim) complete(node string, ids ...int64) {
	s.t.Helper()
	ups := map[int64][]catalog.PieceUpdate{}
	for _, id := range ids {
		n := pgtest.Int(s.t, s.db, `SELECT piece_count FROM torrents WHERE id = $1`, id)
		for i := range int(n) {
			ups[id] = append(ups[id], catalog.PieceUpdate{Piece: i, Complete: true})
		}
	}
	if err := s.db.ForNode(node).StorePieces(s.ctx, ups); err != nil {
		s.t.Fatal(err)
	}
}

// nodeStep is what node id does between passes while up: heartbeat,
// settle the replicas placed on it, drop those marked for removal.
func (s *sim) nodeStep(id string) {
	s.t.Helper()
	n := s.db.ForNode(id)
	if err := s.db.HeartbeatNode(s.ctx, id, catalog.NodeInfo{Zone: s.zones[id]}); err != nil {
		s.t.Fatal(err)
	}
	placed, err := n.PlacedReplicas(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, tor := range placed {
		if err := n.SettleReplica(s.ctx, tor.ID, "/srv/"+id+"/"+tor.Name); err != nil {
			s.t.Fatal(err)
		}
	}
	rm, err := n.RemovingReplicas(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, r := range rm {
		if err := n.DropReplica(s.ctx, r.Torrent.ID); err != nil {
			s.t.Fatal(err)
		}
	}
}

// fetch completes the settled replicas, unmarked, on nodes up, of the
// torrents a node up holds complete: all of them (salt < 0), or about
// half, chosen by a hash of salt, torrent and node.
func (s *sim) fetch(salt int) {
	s.t.Helper()
	todo := pgtest.String(s.t, s.db, `WITH done AS (SELECT r.torrent_id, r.node_id FROM replicas r JOIN torrents t ON t.id = r.torrent_id
			JOIN nodes n ON n.id = r.node_id
		WHERE NOT n.clean_stop AND (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count)
	SELECT coalesce(string_agg(r.node_id || ' ' || r.torrent_id, ' ' ORDER BY r.node_id, r.torrent_id), '')
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id JOIN nodes n ON n.id = r.node_id
		WHERE NOT n.clean_stop AND r.remove_at IS NULL AND r.data_dir <> ''
		AND (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) < t.piece_count
		AND EXISTS (SELECT 1 FROM done d WHERE d.torrent_id = r.torrent_id AND d.node_id <> r.node_id)
		AND ($1 < 0 OR hashtext(r.torrent_id || r.node_id || $1) % 2 = 0)`, salt)
	f := strings.Fields(todo)
	for i := 0; i+1 < len(f); i += 2 {
		id, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			s.t.Fatal(err)
		}
		s.complete(f[i], id)
	}
}

// pass is one leader pass.
func (s *sim) pass() {
	s.t.Helper()
	if err := s.p.leaderPass(s.ctx, &passTimer{}); err != nil {
		s.t.Fatal(err)
	}
	// The planner reads completion from replicas.completed_at: it must
	// agree with the piece state, summed here.
	if bad := pgtest.String(s.t, s.db, `SELECT coalesce(string_agg(r.torrent_id || ':' || r.node_id, ' '), '')
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id
		WHERE (r.completed_at IS NOT NULL) <> ((SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
			WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count)`); bad != "" {
		s.t.Fatalf("replicas whose completed_at disagrees with their pieces: %s", bad)
	}
}

// replicas lists the replicas as "torrent:node[flags]" sorted, flags: +
// complete, * marked for removal, <from a move from node from.
func (s *sim) replicas() string {
	s.t.Helper()
	return pgtest.String(s.t, s.db, `SELECT coalesce(string_agg(f, ' ' ORDER BY f), '') FROM (
		SELECT r.torrent_id || ':' || r.node_id ||
			CASE WHEN (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
				WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count THEN '+' ELSE '' END ||
			CASE WHEN r.remove_at IS NOT NULL THEN '*' ELSE '' END ||
			CASE WHEN r.move_from <> '' THEN '<' || r.move_from ELSE '' END AS f
		FROM replicas r JOIN torrents t ON t.id = r.torrent_id) x`)
}
