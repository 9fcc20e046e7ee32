package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/testutil"
)

// completeBits reads every replica's piece_chunks.complete bitfields from
// the cluster on port: "name node" -> chunk -> bits.
func completeBits(t *testing.T, port int) map[string]map[string][]byte {
	t.Helper()
	out := psql(t, "127.0.0.1", port, "archivd", `SELECT t.name || ' ' || c.node_id || '|' || c.chunk || '|' || encode(c.complete, 'hex')
		FROM piece_chunks c JOIN torrents t ON t.id = c.torrent_id`)
	bits := map[string]map[string][]byte{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Split(l, "|")
		if len(f) != 3 {
			continue // the "(N rows)" footer
		}
		b, err := hex.DecodeString(f[2])
		if err != nil {
			t.Fatalf("piece_chunks row %q: %v", l, err)
		}
		if bits[f[0]] == nil {
			bits[f[0]] = map[string][]byte{}
		}
		bits[f[0]][f[1]] = b
	}
	return bits
}

// keptCompletions fails t if a piece complete in before is not in after
// (completeBits of the old and the new primary).
func keptCompletions(t *testing.T, before, after map[string]map[string][]byte) {
	t.Helper()
	for replica, chunks := range before {
		for chunk, bits := range chunks {
			now := after[replica][chunk]
			for i := range bits {
				if i >= len(now) || bits[i]&^now[i] != 0 {
					t.Fatalf("%s chunk %s: pieces recorded complete before the failover are not after it (byte %d)", replica, chunk, i)
				}
			}
		}
	}
}

// replicatedCatalog starts a PostgreSQL primary on loopback TCP with a
// synchronous streaming standby: every commit acknowledged is on the
// standby. Both are stopped when t ends.
func replicatedCatalog(ctx context.Context, t *testing.T) (primary, standby *pgserver.Server) {
	t.Helper()
	// Fast clusters, but with what replication needs: full page writes
	// for pg_basebackup, synchronous commit so that every commit a node saw
	// acknowledged is on the standby.
	settings := map[string]string{"full_page_writes": "on", "synchronous_commit": "on"}
	primary = tcpCluster(t, settings)
	standby, err := pgserver.StartStandby(ctx, primary, pgserver.Options{Dir: filepath.Join(shortDir(t, "archivd-sb-"), "pg"),
		Port: testutil.FreePort(t, "127.0.0.1"), TCP: true, Fast: true, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopCluster(standby) })
	p1 := primary.Port()
	psql(t, "127.0.0.1", p1, "archivd", `ALTER SYSTEM SET synchronous_standby_names = '*'`)
	psql(t, "127.0.0.1", p1, "archivd", `SELECT pg_reload_conf()`)
	testutil.Eventually(t, time.Minute, "the standby replicating synchronously", func() bool {
		return strings.Contains(psql(t, "127.0.0.1", p1, "archivd", `SELECT sync_state FROM pg_stat_replication`), "sync")
	})
	return primary, standby
}

// multiHostURL is the catalog URL of a node following a failover from
// the primary to the standby.
func multiHostURL(p1, p2 int) string {
	return fmt.Sprintf("postgres://archivd@127.0.0.1:%d,127.0.0.1:%d/archivd?target_session_attrs=read-write", p1, p2)
}

// A catalog on a PostgreSQL primary with a synchronous streaming standby,
// reached through a multi-host URL (target_session_attrs=read-write):
// while node x seeds one torrent to node y and downloads another from it,
// the standby is promoted and the primary stopped. x is not restarted: it
// reconnects through the URL to the new primary, keeps the torrent it
// seeds in its engine throughout, loses no recorded completion, finishes
// and records the download, and still works a verify run.
func TestFailoverToStandbyKeepsSeedingAndCompletions(t *testing.T) {
	t.Parallel()
	tracker := testutil.StartTracker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	primary, standby := replicatedCatalog(ctx, t)
	p1, p2 := primary.Port(), standby.Port()
	rate := "ARCHIVD_NETWORK_DOWNLOAD_RATE=1MiB" // each transfer takes ~25 s
	x := newInstance(t, "x", tracker.URL, "  per_torrent_metrics: true\n")
	x.env = []string{"ARCHIVD_DATABASE_URL=" + multiHostURL(p1, p2), rate}
	y := newInstance(t, "y", tracker.URL, "")
	y.env = []string{rate}
	x.cli(0, "migrate")

	// x seeds "dataset" to y; y seeds "second" to x.
	src1 := makeDataset(t, x.dir, newRand())
	t1 := filepath.Join(x.dir, "dataset.torrent")
	ta := x.adopt("science", src1, "256KiB", t1)
	src2 := filepath.Join(y.dir, "second")
	if err := os.Rename(makeDataset(t, y.dir, newRand()), src2); err != nil {
		t.Fatal(err)
	}
	t2 := filepath.Join(y.dir, "second.torrent")
	tb := y.adopt("science", src2, "256KiB", t2)
	tracker.Allow(t, ta.InfoHash)
	tracker.Allow(t, tb.InfoHash)
	for _, d := range []string{filepath.Join(x.dir, "data", "in"), filepath.Join(y.dir, "data", "in")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	x.cli(0, "collection", "create", "incoming", "--data-root", filepath.Join(x.dir, "data", "in"))
	x.cli(0, "add", "-c", "incoming", t2)
	y.cli(0, "collection", "create", "incoming", "--data-root", filepath.Join(y.dir, "data", "in"))
	y.cli(0, "add", "-c", "incoming", t1)
	x.start()
	y.start()

	testutil.Eventually(t, 3*time.Minute, "x a quarter into its download", func() bool {
		s := x.show("second")
		return s.PiecesComplete*4 >= s.PieceCount
	})
	before := completeBits(t, p1)
	if s := x.show("second"); s.PiecesComplete == s.PieceCount {
		t.Fatal("x finished before the failover: the test needs a slower transfer")
	}
	// Promote, then stop the old primary: commits x makes to it meanwhile
	// wait for the synchronous standby (gone) and fail at the stop.
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	stopCluster(primary)
	failedOver := time.Now()

	// x keeps running and seeding; both transfers finish.
	seeding := func() {
		t.Helper()
		select {
		case err := <-x.done:
			t.Fatalf("x exited during the failover: %v", err)
		default:
		}
		if !x.inEngine(ta.InfoHash) {
			t.Fatal("x dropped the torrent it seeds from its engine during the failover")
		}
	}
	var sx torrentJSON
	testutil.Eventually(t, 4*time.Minute, "x's download finished and recorded on the new primary", func() bool {
		seeding()
		x.cliJSON(&sx, "show", "second")
		return sx.PiecesComplete == sx.PieceCount
	})
	sy := y.waitComplete("dataset", 4*time.Minute)
	seeding()
	t.Logf("failover: x finished its download %s after the primary stopped", time.Since(failedOver).Round(time.Second))
	if !sameTree(t, src2, sx.DataDir) || !sameTree(t, src1, sy.DataDir) {
		t.Fatal("a copy differs from its source after the failover")
	}
	// No completion recorded before the failover is lost after it.
	keptCompletions(t, before, completeBits(t, p2))
	// The daemon's change listener followed too: a verify run is claimed.
	x.cli(0, "verify", "--wait", "--timeout", "3m", "second")
	// It lost the catalog and found it again without a restart.
	for _, line := range []string{"catalog change listener down", "catalog change listener up again"} {
		if !strings.Contains(x.log.String(), line) {
			t.Errorf("x's log has no %q: the failover did not reach the daemon", line)
		}
	}
	if n := strings.Count(x.log.String(), "archivd serving"); n != 1 {
		t.Fatalf("x started %d times, want once (no restart)", n)
	}
	x.stop()
	y.stop()
}
