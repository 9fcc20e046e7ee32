package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/pgtest"
)

// A replica placed on this host's node by the planner that made no
// progress for longer than fleet.recovery_stall_after (default 10m; its
// progress timestamp two hours back): fleet status lists it (text and
// JSON), health raises RECOVERY_STALLED (WARN) naming it, with a command
// that works as printed; rm of the torrent, a way out, clears it.
func TestStalledReplicaInFleetStatusAndHealth(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	ctx := ctxT(t)
	self := h.db.NodeID()
	for _, id := range []string{"src", self} {
		if _, err := h.db.StartNode(ctx, id, "h"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.db.CreateCollection(ctx, catalog.Collection{Name: "c", ReplicasMin: 2}); err != nil {
		t.Fatal(err)
	}
	tor, err := h.db.ForNode("src").AddTorrent(ctx, catalog.NewTorrent{Collection: "c", InfoHash: [20]byte{0xab, 1}, Name: "lost-set",
		Metainfo: []byte("d4:infod...e"), PieceLength: 1 << 18, PieceCount: 4, TotalLength: 4 << 18, DataDir: "/srv/src/lost-set",
		Files: []catalog.File{{Index: 0, Path: "x", Length: 4 << 18}}, Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pgtest.Open(t, h.url), `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by, progress_at)
		VALUES ($1, $2, $3, 'src', now() - interval '2 hours')`, tor.ID, self, h.data+"/c/lost-set")
	if err := h.db.StopNode(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	code, out := h.cli(t, "fleet", "status")
	if code != 0 || !strings.Contains(out, "recovery: no replica placed by the planner is fetching") ||
		!strings.Contains(out, "stalled:  1 replica placed without progress for 10m0s or more, 1.0 MiB left") ||
		!strings.Contains(out, "  "+self+": lost-set (ab01") || !strings.Contains(out, ", 1.0 MiB left\n") {
		t.Fatalf("fleet status: exit %d: %s", code, out)
	}
	var st fleetStatus
	if code, out := h.cli(t, "fleet", "status", "--json"); code != 0 || json.Unmarshal([]byte(out), &st) != nil ||
		st.Recovery.Stalled != 1 || st.Recovery.StalledBytes != 4<<18 || st.Recovery.Fetching != 0 || st.Recovery.StallAfter != 600 ||
		len(st.Stalled) != 1 || st.Stalled[0].Name != "lost-set" || st.Stalled[0].Node != self {
		t.Fatalf("fleet status --json: exit %d: %s", code, out)
	}
	c := mustRaise(t, h.health(t), health.RecoveryStalled, health.Warn, "lost-set", "fleet status")
	if c.Count != 1 || !strings.Contains(c.Summary, "1 replica placed on this node made no progress for 10m0s") {
		t.Fatalf("RECOVERY_STALLED: %+v", c)
	}
	if out := h.runSuggested(t, c); !strings.Contains(out, "stalled:  1 replica") {
		t.Fatalf("suggested command: %s", out)
	}
	if code, out := h.cli(t, "rm", "lost-set"); code != 0 {
		t.Fatalf("rm: exit %d: %s", code, out)
	}
	mustClear(t, h.health(t), health.RecoveryStalled)
	if code, out := h.cli(t, "fleet", "status"); code != 0 || !strings.Contains(out, "stalled:  no placed replica without progress for 10m0s") {
		t.Fatalf("fleet status after rm: exit %d: %s", code, out)
	}
}
