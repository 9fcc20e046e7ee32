package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/testutil"
)

// tcpCluster starts a private PostgreSQL cluster listening on a free
// 127.0.0.1 port, with database archivd (not migrated); stopped and
// removed when the test ends.
func tcpCluster(t *testing.T, settings map[string]string) *pgserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := shortDir(t, "archivd-pg-")
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "pg"), Port: testutil.FreePort(t, "127.0.0.1"), TCP: true, Fast: true, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopCluster(srv) })
	if err := srv.EnsureDatabase(ctx, "archivd"); err != nil {
		t.Fatal(err)
	}
	return srv
}

func stopCluster(srv *pgserver.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = srv.Stop(ctx)
}

// shortDir is a 0755 directory under /tmp (socket paths stay short; the
// postgres user reaches it), removed when the test ends.
func shortDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startPgbouncer runs a real PgBouncer in transaction mode on a free
// 127.0.0.1 port in front of pg's database archivd; it returns the port.
func startPgbouncer(t *testing.T, pg *pgserver.Server, pgPort int) int {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		t.Fatal("pgbouncer is not installed (scripts/deps.sh test installs it)")
	}
	dir := shortDir(t, "archivd-pgb-")
	port := testutil.FreePort(t, "127.0.0.1")
	ini := fmt.Sprintf(`[databases]
archivd = host=127.0.0.1 port=%d dbname=archivd user=archivd
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s/users.txt
admin_users = archivd
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
server_reset_query =
`, pgPort, port, dir)
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(`"archivd" ""`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pg.Chown(dir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := pg.Command(ctx, bin, filepath.Join(dir, "pgbouncer.ini"))
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("pgbouncer log tail:\n%s", tail(log.String(), 20))
		}
	})
	testutil.Eventually(t, 20*time.Second, "pgbouncer listening", func() bool {
		select {
		case <-done:
			t.Fatalf("pgbouncer exited: %s", log.String())
		default:
		}
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port
}

// psql runs sql with the host's psql (simple protocol: the PgBouncer
// console speaks nothing else) and returns its unaligned output.
func psql(t *testing.T, host string, port int, db, sql string) string {
	t.Helper()
	bin, err := pgserver.FindBinDir("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "psql"), "-X", "-A", "-q", "-h", host, "-p", strconv.Itoa(port),
		"-U", "archivd", "-d", db, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v: %s", sql, err, out)
	}
	return string(out)
}

// column returns the value of column name in the row whose first column
// is key, from psql -A output (header line first).
func column(t *testing.T, out, key, name string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	head := strings.Split(lines[0], "|")
	for _, l := range lines[1:] {
		f := strings.Split(l, "|")
		if f[0] != key {
			continue
		}
		for i, h := range head {
			if h == name && i < len(f) {
				return f[i]
			}
		}
	}
	t.Fatalf("no %s for %s in:\n%s", name, key, out)
	return ""
}

func onlyValue(t *testing.T, out string) int {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	n, err := strconv.Atoi(lines[len(lines)-2])
	if err != nil {
		t.Fatalf("not one number: %q", out)
	}
	return n
}

// waitComplete waits until in records every piece of torrent name.
func (in *instance) waitComplete(name string, within time.Duration) torrentJSON {
	in.t.Helper()
	var tj torrentJSON
	testutil.Eventually(in.t, within, in.name+" has "+name+" complete", func() bool {
		in.cliJSON(&tj, "show", name)
		return tj.PieceCount > 0 && tj.PiecesComplete == tj.PieceCount
	})
	return tj
}

// A real daemon and the CLI (migrate, add, list, verify) work through a
// real PgBouncer in transaction mode, with only the LISTEN session on a
// direct connection: the daemon seeds a torrent to a peer and works a
// verify run, and the catalog traffic went through the pooler.
func TestPgBouncerTransactionModeRunsDaemonAndCLI(t *testing.T) {
	t.Parallel()
	tracker := testutil.StartTracker(t)
	pg := tcpCluster(t, nil)
	pgPort := portOf(t, pg)
	bouncer := startPgbouncer(t, pg, pgPort)
	a := newInstance(t, "a", tracker.URL, "")
	a.env = []string{
		fmt.Sprintf("ARCHIVD_DATABASE_URL=postgres://archivd@127.0.0.1:%d/archivd", bouncer),
		"ARCHIVD_DATABASE_SESSION_URL=" + pg.TCPURL("archivd"),
		"ARCHIVD_DATABASE_POOL_MODE=transaction",
		"ARCHIVD_DATABASE_AUTO_MIGRATE=false",
	}
	if out := a.cli(0, "migrate"); !strings.Contains(out, "8") {
		t.Logf("migrate: %s", out)
	}
	src := makeDataset(t, a.dir, newRand())
	tfile := filepath.Join(a.dir, "dataset.torrent")
	ta := a.adopt("science", src, "256KiB", tfile)
	if ta.PiecesComplete != ta.PieceCount || ta.PieceCount == 0 {
		t.Fatalf("a: added torrent not recorded complete: %+v", ta)
	}
	tracker.Allow(t, ta.InfoHash)
	a.start()
	b := newInstance(t, "b", tracker.URL, "")
	b.importTorrent("science", filepath.Join(b.dir, "data"), tfile)
	b.start()
	tb := b.waitComplete("dataset", 4*time.Minute)
	if !sameTree(t, src, tb.DataDir) {
		t.Fatal("b's copy differs from a's")
	}
	if list := a.cli(0, "list"); !strings.Contains(list, "dataset") {
		t.Fatalf("a: list does not show the torrent:\n%s", list)
	}
	a.cli(0, "verify", "--wait", "--timeout", "3m", "dataset")
	var rep reportJSON
	out := a.cli(0, "report", "--format", "json")
	if err := jsonUnmarshal(out, &rep); err != nil || rep.Run.State != "done" || rep.Run.PiecesChecked != int64(ta.PieceCount) {
		t.Fatalf("a: report of the verify run: %+v %v\n%s", rep.Run, err, out)
	}
	// The catalog traffic went through PgBouncer; the one LISTEN session
	// is direct.
	stats := psql(t, "127.0.0.1", bouncer, "pgbouncer", "SHOW STATS")
	if n, _ := strconv.Atoi(column(t, stats, "archivd", "total_xact_count")); n < 100 {
		t.Fatalf("PgBouncer counted %d transactions for archivd, want many:\n%s", n, stats)
	}
	listens := psql(t, "127.0.0.1", pgPort, "archivd", `SELECT count(*) FROM pg_stat_activity
		WHERE datname = 'archivd' AND query LIKE 'LISTEN%'`)
	if onlyValue(t, listens) != 1 {
		t.Fatalf("LISTEN sessions: %s, want 1 (the daemon's, direct)", listens)
	}
	a.stop()
	b.stop()
}

// With database.listen: false the daemon LISTENs nowhere and still acts
// on catalog changes: a torrent added while it runs is seeded to a peer
// (the seeder's full reconcile is set to an hour, so only the change log
// can tell it), and a verify run is claimed and done.
func TestPollOnlyDaemonSeedsAddedTorrentAndClaimsRuns(t *testing.T) {
	t.Parallel()
	tracker := testutil.StartTracker(t)
	a := newInstance(t, "a", tracker.URL, "  per_torrent_metrics: true\n")
	a.env = []string{"ARCHIVD_DATABASE_LISTEN=false", "ARCHIVD_DATABASE_POLL_INTERVAL=500ms", "ARCHIVD_SEEDER_RECONCILE_INTERVAL=1h"}
	a.cli(0, "collection", "create", "science")
	a.start()
	src := makeDataset(t, a.dir, newRand())
	tfile := filepath.Join(a.dir, "dataset.torrent")
	a.cli(0, "add", "-c", "science", src, "--piece-length", "256KiB", "--out", tfile)
	ta := a.show("dataset")
	tracker.Allow(t, ta.InfoHash)
	testutil.Eventually(t, time.Minute, "a seeds the torrent added after its start", func() bool { return a.inEngine(ta.InfoHash) })
	b := newInstance(t, "b", tracker.URL, "")
	b.importTorrent("science", filepath.Join(b.dir, "data"), tfile)
	b.start()
	tb := b.waitComplete("dataset", 4*time.Minute)
	if !sameTree(t, src, tb.DataDir) {
		t.Fatal("b's copy differs from a's")
	}
	a.cli(0, "verify", "--wait", "--timeout", "3m", "dataset")
	listens := psql(t, filepath.Join(a.dir, "postgres"), 5432, "archivd", `SELECT count(*) FROM pg_stat_activity
		WHERE datname = 'archivd' AND query LIKE 'LISTEN%'`)
	if onlyValue(t, listens) != 0 {
		t.Fatalf("LISTEN sessions with database.listen false: %s, want 0", listens)
	}
	a.stop()
	b.stop()
}

func portOf(t *testing.T, s *pgserver.Server) int { t.Helper(); return s.Port() }

func newRand() *rand.Rand { return rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano()))) }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
