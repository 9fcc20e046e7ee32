package seeder

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
)

// A test re-executes its own binary with these variables to run a seeder
// as a child process that it can SIGKILL.
const (
	childEnv     = "ARCHIVD_SEEDER_CHILD"
	childDBEnv   = "ARCHIVD_SEEDER_CHILD_DB"
	childRateEnv = "ARCHIVD_SEEDER_CHILD_RATE"
	// childExpectEnv: the child prints "ALLSEEDING <ms since start> <rss KiB>"
	// on stdout once this many torrents seed (benchmarks).
	childExpectEnv = "ARCHIVD_SEEDER_CHILD_EXPECT"
)

// runChild runs a seeder until SIGTERM (clean stop, exit 0) or SIGKILL.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fmt.Println("STARTED") // SIGTERM now means a clean stop
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Str("child", os.Getenv(childEnv)).Logger()
	db, err := catalog.Open(ctx, os.Getenv(childDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if ctx.Err() != nil {
			return 0 // stopped before it started: nothing was in flight
		}
		return 2
	}
	defer db.Close()
	rate, _ := strconv.ParseInt(os.Getenv(childRateEnv), 10, 64)
	s, err := New(Config{ListenHost: "127.0.0.1", NodeID: os.Getenv(childEnv), DownloadRate: rate,
		CommitInterval: 100 * time.Millisecond, StatsInterval: time.Second, Logger: log}, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if n, _ := strconv.Atoi(os.Getenv(childExpectEnv)); n > 0 {
		go reportAllSeeding(ctx, s, n)
	}
	if err := s.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if ctx.Err() != nil && strings.Contains(err.Error(), "seeder: start") {
			return 0 // stopped before it started: nothing was in flight
		}
		return 1
	}
	return 0
}

var childStart = time.Now()

func reportAllSeeding(ctx context.Context, s *Seeder, n int) {
	for ctx.Err() == nil {
		if st := s.Status(); st.Seeding >= n {
			fmt.Printf("ALLSEEDING %d %d\n", time.Since(childStart).Milliseconds(), rssKiB(os.Getpid()))
			return
		}
		time.Sleep(10 * time.Millisecond) // the child's sampling of its own status, the measurement's resolution
	}
}

// rssKiB reads VmRSS of a process.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

// child is a seeder process started by a test.
type child struct {
	cmd   *exec.Cmd
	done  chan error
	lines chan string // stdout
}

func startChild(t testing.TB, node, dbURL string, rate int64, extraEnv ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+node, childDBEnv+"="+dbURL, childRateEnv+"="+strconv.FormatInt(rate, 10))
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	// A pipe of our own: cmd.Wait must not close it under the reader.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1), lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		out.Close()
	}()
	go func() { c.done <- cmd.Wait() }()
	select {
	case l := <-c.lines:
		if l != "STARTED" {
			t.Fatalf("child said %q before STARTED", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("child did not start within 30s")
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill(t testing.TB) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("child did not die after SIGKILL")
	}
}

// term asks for a clean stop and checks it exited 0.
func (c *child) term(t testing.TB) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("child clean stop: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("child did not stop within 60s of SIGTERM")
	}
}
