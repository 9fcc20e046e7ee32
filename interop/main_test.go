package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if buildOnce.dir != "" {
		os.RemoveAll(buildOnce.dir)
	}
	os.Exit(code)
}

// need returns the path of a client binary. A missing client fails the test
// in CI (CI=true) and skips it elsewhere, naming the Debian package.
func need(t *testing.T, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (CI): install Debian package %s", bin, pkg)
	}
	t.Skipf("%s not found: install Debian package %s (apt-get install %s)", bin, pkg, pkg)
	return ""
}

// needLibtorrent checks Debian's python3 with the libtorrent binding.
func needLibtorrent(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, systemPython, "-c", "import libtorrent").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s cannot import libtorrent (CI): install Debian package python3-libtorrent: %v", systemPython, err)
		}
		t.Skipf("%s cannot import libtorrent: install Debian package python3-libtorrent (%v)", systemPython, err)
	}
}

// systemPython is Debian's interpreter: the python3 on PATH may be another
// one without the libtorrent binding.
const systemPython = "/usr/bin/python3"

// dataSize is the payload of one test torrent.
func dataSize() int64 {
	if os.Getenv("ARCHIVD_INTEROP_BIG") == "1" {
		return 512 << 20
	}
	return 64 << 20
}

// testCtx is bounded by the test's deadline minus a margin, or 5 minutes.
func testCtx(t *testing.T) context.Context {
	d := time.Now().Add(5 * time.Minute)
	if dl, ok := t.Deadline(); ok && dl.Add(-10*time.Second).Before(d) {
		d = dl.Add(-10 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor is testutil.Eventually for a cond that also tells the state it
// saw: its last message is logged when the wait times out.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	var msg string
	done := false
	defer func() {
		if !done {
			t.Logf("%s: last seen: %s", what, msg)
		}
	}()
	testutil.Eventually(t, timeout, what, func() bool {
		var ok bool
		ok, msg = cond()
		return ok
	})
	done = true
}

// proc is a started client process, killed by PID at cleanup; its output
// goes to a log file printed when the test fails.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProc(t *testing.T, ctx context.Context, name string, dir string, bin string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, ctx, name, dir, nil, bin, args...)
}

// startProcEnv is startProc with extra environment variables ("K=V").
func startProcEnv(t *testing.T, ctx context.Context, name string, dir string, env []string, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(cleanEnv(), env...)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("---- %s log (last 4 KiB) ----\n%s", name, tail(b, 40000))
		}
		if t.Failed() || os.Getenv("ARCHIVD_INTEROP_KEEP_LOGS") == "1" {
			b, _ := os.ReadFile(logPath)
			keepLog(t, name, b)
		}
	})
	return p
}

// keepLog writes a process's whole log to ARCHIVD_INTEROP_DUMP_DIR when
// set (the printed tail is often too short): for failed tests, or for all
// with ARCHIVD_INTEROP_KEEP_LOGS=1.
func keepLog(t *testing.T, name string, b []byte) {
	dir := os.Getenv("ARCHIVD_INTEROP_DUMP_DIR")
	if dir == "" {
		return
	}
	f := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"."+name+".full.log")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Logf("keep %s log: %v", name, err)
	}
}

func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// cleanEnv drops ARCHIVD_* (unknown keys are errors for archivd, and the
// caller's settings must not leak in).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARCHIVD_") {
			env = append(env, kv)
		}
	}
	return env
}

var buildOnce struct {
	sync.Once
	dir  string // per test process: concurrent runs must not share a binary
	path string
	err  error
}

// archivdBin builds cmd/archivd once per test binary (or uses ARCHIVD_BIN).
func archivdBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ARCHIVD_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "archivd-interop-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.dir = dir
		buildOnce.path = filepath.Join(dir, "archivd")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", buildOnce.path, "github.com/archivd/archivd/cmd/archivd")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildOnce.err = fmt.Errorf("go build archivd: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}
