package pgserver

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// procField returns field n (1-based, after the command) of /proc/pid/stat.
func procField(pid, n int) string {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if n-3 >= len(f) {
		return ""
	}
	return f[n-3]
}

// TestZombiePostmasterIsNotARunningCluster makes the test process the
// postmaster's reaper (as archivd is when it runs as PID 1 of a container)
// and leaves the killed postmaster unreaped: a zombie, which kill(pid, 0)
// and `pg_ctl status` take for a running server.
func TestZombiePostmasterIsNotARunningCluster(t *testing.T) {
	ctx := context.Background()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become a subreaper: %v", err)
	}
	t.Cleanup(func() {
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
		for { // reap what we adopted
			if pid, _ := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); pid <= 0 {
				return
			}
		}
	})
	dir := testDir(t)
	s, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	pid, alive := s.postmaster()
	if !alive || procField(pid, 4) != strconv.Itoa(os.Getpid()) {
		t.Skipf("postmaster %d (alive %v) was not adopted by the test process (parent %s)", pid, alive, procField(pid, 4))
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, fmt.Sprintf("postmaster %d a zombie", pid), func() bool { return procField(pid, 3) == "Z" })
	if syscall.Kill(pid, 0) != nil {
		t.Fatal("kill(pid, 0) fails on the zombie: the test proves nothing")
	}
	s2, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatalf("start over a zombie postmaster: %v", err)
	}
	if !s2.Started {
		t.Fatal("a zombie postmaster was taken for a running cluster")
	}
	exec1(t, s2.URL("postgres"), "SELECT 1")
}

func TestSuperviseRestartsAKilledPostmaster(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Start(ctx, Options{Dir: testDir(t), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	done := make(chan struct{})
	go func() { defer close(done); s.Supervise(ctx, 100*time.Millisecond, testLogger(t), nil) }()
	defer func() { cancel(); <-done }()
	old, _ := s.postmaster()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "the killed postmaster restarted", func() bool {
		pid, alive := s.postmaster()
		return alive && pid != old && connects(s.URL("postgres"))
	})
	exec1(t, s.URL("postgres"), "SELECT 1")
}

func testLogger(t *testing.T) zerolog.Logger { return zerolog.New(zerolog.NewTestWriter(t)) }

func connects(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	db, err := catalog.Open(ctx, url)
	if err == nil {
		db.Close()
	}
	return err == nil
}

// TestOrphanFindsTheClusterProcesses: the processes of a running cluster
// are found by their working directory (what start waits for after a
// postmaster was killed), and none once it stopped.
func TestOrphanFindsTheClusterProcesses(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{Dir: testDir(t), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	if pid := s.orphan(); pid == 0 {
		t.Fatal("no process found working in the data directory of a running cluster")
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.waitForOrphans(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
