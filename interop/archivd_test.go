package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// archivd is one archivd node: a config file, a fresh catalog database and
// at most one running `archivd serve`.
type archivd struct {
	t     *testing.T
	ctx   context.Context
	bin   string
	dir   string
	cfg   string
	url   string
	port  int
	serve *proc
}

// quietVerify keeps the scheduled verify window closed during a test
// (1 January only): with the default schedule a window is open from 01:00
// to 07:00 and a run starts with the daemon (see verifyNow).
const quietVerify = `verify: {schedules: ["0 1 1 1 *"], timezone: UTC}`

// verifyNow opens a verify window that is always open: a scheduled run
// starts with the daemon.
const verifyNow = `verify: {schedules: ["* * * * *"], timezone: UTC, max_run: 6h}`

func newArchivd(t *testing.T, ctx context.Context, trackers ...string) *archivd {
	t.Helper()
	return newArchivdWith(t, ctx, quietVerify, trackers...)
}

// newArchivdWith is newArchivd with a verify section (YAML) of its own.
func newArchivdWith(t *testing.T, ctx context.Context, verify string, trackers ...string) *archivd {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := &archivd{t: t, ctx: ctx, bin: archivdBin(t), dir: dir, url: pgtest.URL(t), port: testutil.FreePort(t, "127.0.0.1")}
	a.cfg = filepath.Join(dir, "archivd.yaml")
	tr, _ := json.Marshal(trackers)
	if trackers == nil {
		tr = []byte("[]")
	}
	// JSON is YAML: every value quoted exactly.
	conf := fmt.Sprintf(`state_dir: %q
node_id: `+interopNode+`
data_dir: %q
log: {level: %s, format: json}
database: {url: %q, auto_migrate: true}
network: {listen_host: 127.0.0.1, listen_port: %d, dht: false, pex: false, port_forwarding: false, trackers: %s}
seeder: {commit_interval: 200ms, reconcile_interval: 10s}
http: {listen: "127.0.0.1:0"}
%s
`, filepath.Join(dir, "state"), filepath.Join(dir, "data"), logLevel(), a.url, a.port, tr, verify)
	if err := os.WriteFile(a.cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	a.run("migrate")
	return a
}

// run runs one CLI command and returns its stdout; an error fails the test.
func (a *archivd) run(args ...string) string {
	a.t.Helper()
	return a.runExit(0, args...)
}

// runExit runs an archivd command that must exit with code want.
func (a *archivd) runExit(want int, args ...string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, append([]string{"--config", a.cfg}, args...)...)
	cmd.Env = cleanEnv()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		a.t.Fatalf("archivd %s: %v", strings.Join(args, " "), err)
	}
	if code != want {
		a.t.Fatalf("archivd %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String()
}

// show is the part of `archivd show --json` the tests read.
type show struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	InfoHash       string `json:"infohash"`
	PieceLength    int64  `json:"piece_length"`
	PieceCount     int    `json:"piece_count"`
	PiecesComplete int    `json:"pieces_complete"`
	PiecesKnown    int    `json:"pieces_known"`
	DataDir        string `json:"data_dir"`
	Uploaded       int64  `json:"uploaded_bytes"`
	Downloaded     int64  `json:"downloaded_bytes"`
	OpenFindings   int    `json:"open_findings"`
	Availability   string `json:"availability"`
	Files          []struct {
		Path   string `json:"path"`
		Length int64  `json:"length"`
		Offset int64  `json:"offset"`
	} `json:"files"`
}

func (a *archivd) show(ref string) show {
	a.t.Helper()
	var s show
	out := a.run("show", "--json", ref)
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		a.t.Fatalf("archivd show --json %s: %v: %s", ref, err, out)
	}
	return s
}

// start runs `archivd serve` until stop or the end of the test.
func (a *archivd) start() {
	a.t.Helper()
	if a.serve != nil && !a.serve.exited() {
		a.t.Fatal("archivd serve already running")
	}
	a.serve = startProc(a.t, a.ctx, "archivd-serve", a.dir, a.bin, "--config", a.cfg, "serve")
}

// stop sends SIGTERM and waits for a clean exit (piece states committed,
// transfer totals written).
func (a *archivd) stop() {
	a.t.Helper()
	p := a.serve
	if p == nil || p.exited() {
		a.t.Fatalf("archivd serve is not running: %s", tail([]byte(p.output()), 2048))
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		a.t.Fatal("archivd serve did not stop within 60s of SIGTERM")
	}
	if p.err != nil {
		a.t.Fatalf("archivd serve exited with %v: %s", p.err, tail([]byte(p.output()), 2048))
	}
}

// waitComplete waits until the catalog records every piece of ref complete.
func (a *archivd) waitComplete(ref string, timeout time.Duration) show {
	a.t.Helper()
	var s show
	a.t.Cleanup(func() {
		if a.t.Failed() {
			a.dumpGoroutines()
		}
	})
	waitFor(a.t, "archivd complete "+ref, timeout, func() (bool, string) {
		if a.serve != nil && a.serve.exited() {
			a.t.Fatalf("archivd serve exited: %v: %s", a.serve.err, tail([]byte(a.serve.output()), 2048))
		}
		s = a.show(ref)
		return s.PieceCount > 0 && s.PiecesComplete == s.PieceCount,
			fmt.Sprintf("%d of %d pieces complete, %d known", s.PiecesComplete, s.PieceCount, s.PiecesKnown)
	})
	return s
}

// interopNode is every interop node's node_id: the catalog keeps piece
// state per node, so the test's own handle speaks for it.
const interopNode = "interop"

// catalog opens the node's catalog directly.
func (a *archivd) catalog() *catalog.DB {
	a.t.Helper()
	db, err := catalog.Open(a.ctx, a.url)
	if err != nil {
		a.t.Fatalf("open catalog: %v", err)
	}
	db.BindNode(interopNode) // piece state is per node
	a.t.Cleanup(db.Close)
	return db
}

// corruptPiece damages one piece of a stopped node's data and makes the
// catalog forget that piece, so that the next start hashes it, finds it bad
// and fetches it again. It picks a piece inside the largest file and
// returns its index.
func (a *archivd) corruptPiece(s show) int {
	a.t.Helper()
	piece := a.damagePiece(s)
	if err := a.catalog().ForgetPieces(a.ctx, s.ID, []int{piece}); err != nil {
		a.t.Fatalf("forget piece %d: %v", piece, err)
	}
	after := a.show(s.InfoHash)
	if after.PiecesComplete != s.PieceCount-1 {
		a.t.Fatalf("after forgetting piece %d: %d of %d complete, want %d", piece, after.PiecesComplete, s.PieceCount, s.PieceCount-1)
	}
	return piece
}

// damagePiece flips 4 KiB in the middle of the largest file (bitrot) and
// returns the piece it lies in; the catalog is not told.
func (a *archivd) damagePiece(s show) int {
	a.t.Helper()
	big := s.Files[0]
	for _, f := range s.Files {
		if f.Length > big.Length {
			big = f
		}
	}
	mid := big.Offset + big.Length/2
	piece := int(mid / s.PieceLength)
	start := max(int64(piece)*s.PieceLength, big.Offset)
	n := min(int64(4096), big.Offset+big.Length-start)
	path := filepath.Join(s.DataDir, filepath.FromSlash(big.Path))
	corruptAt(a.t, path, start-big.Offset, n)
	return piece
}

// logLevel of the daemons: ARCHIVD_INTEROP_LOG (e.g. debug) or info.
func logLevel() string {
	if l := os.Getenv("ARCHIVD_INTEROP_LOG"); l != "" {
		return l
	}
	return "info"
}

// dumpGoroutines makes a running serve print its goroutines (SIGQUIT) and
// keeps the log in ARCHIVD_INTEROP_DUMP_DIR when set (for hang reports).
func (a *archivd) dumpGoroutines() {
	dir := os.Getenv("ARCHIVD_INTEROP_DUMP_DIR")
	if dir == "" || a.serve == nil || a.serve.exited() {
		return
	}
	_ = a.serve.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-a.serve.done:
	case <-time.After(5 * time.Second):
	}
	b, _ := os.ReadFile(a.serve.log)
	_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(a.t.Name(), "/", "_")+".log"), b, 0o644)
}

func (s show) totalLength() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.Length
	}
	return n
}
