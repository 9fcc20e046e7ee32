package pgserver

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest/rawsql"
	"github.com/archivd/archivd/internal/testutil"
)

// testDir returns a short directory that the postgres user can traverse.
func testDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgsrv-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "pg")
}

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	rawsql.Exec(t, url, sql)
}

func TestClusterIsReusedAndKeepsDataAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	s, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	if !s.Started {
		t.Fatal("first Start did not start the cluster")
	}
	if err := s.EnsureDatabase(ctx, "archivd"); err != nil {
		t.Fatal(err)
	}
	exec1(t, s.URL("archivd"), "CREATE TABLE keep (x int); INSERT INTO keep VALUES (42)")

	// A second Start while it runs (archivd killed, cluster alive) reuses it.
	s2, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Started {
		t.Fatal("Start on a running cluster started another one")
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s3, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	if !s3.Started {
		t.Fatal("Start after Stop did not start the cluster")
	}
	exec1(t, s3.URL("archivd"), "DO $$ BEGIN IF (SELECT x FROM keep) <> 42 THEN RAISE 'lost data'; END IF; END $$")
}

func TestClusterRecoversAfterPostmasterWasKilled(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	s, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	raw, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "the killed postmaster gone", func() bool {
		return syscall.Kill(pid, 0) != nil || procField(pid, 3) == "Z" // a zombie if the test process adopted it
	})
	// The stale postmaster.pid is still there; Start must cope.
	s2, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatalf("restart after SIGKILL: %v", err)
	}
	if !s2.Started {
		t.Fatal("cluster was reported running after its postmaster was killed")
	}
	exec1(t, s2.URL("postgres"), "SELECT 1")
}

func TestMissingBinariesGiveOneLineInstallHint(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: testDir(t), BinDir: "/nonexistent/bin"})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "bin_dir") {
		t.Fatalf("got %v", err)
	}
}

func TestLastUserStopsTheSharedCluster(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	daemon, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Stop(context.Background()) })
	cli, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if running, _ := daemon.running(ctx); !running {
		t.Fatal("a command's Close stopped the cluster its daemon still uses")
	}
	exec1(t, daemon.URL("postgres"), "SELECT 1")
	if err := daemon.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if running, _ := daemon.running(ctx); running {
		t.Fatal("the last user's Close left the cluster running")
	}
}

func TestConcurrentStartsShareOneCluster(t *testing.T) {
	ctx := context.Background()
	dir := testDir(t)
	errs := make(chan error, 4)
	servers := make(chan *Server, 4)
	for range 4 {
		go func() {
			s, err := Start(ctx, Options{Dir: dir, Fast: true})
			errs <- err
			servers <- s
		}()
	}
	started := 0
	var all []*Server
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Start: %v", err)
		}
		s := <-servers
		all = append(all, s)
		if s.Started {
			started++
		}
	}
	t.Cleanup(func() { all[0].Stop(context.Background()) })
	if started != 1 {
		t.Fatalf("%d of 4 concurrent Starts started the cluster, want exactly 1", started)
	}
}
