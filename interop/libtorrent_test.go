package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ltStatus is one status line of testdata/ltdrive.py.
type ltStatus struct {
	State      string  `json:"state"`
	Progress   float64 `json:"progress"`
	Pieces     int     `json:"pieces"`
	NumPieces  int     `json:"num_pieces"`
	Seeding    bool    `json:"seeding"`
	Downloaded int64   `json:"downloaded"`
	Uploaded   int64   `json:"uploaded"`
	Error      string  `json:"error"`
	Done       bool    `json:"done"`
}

func ltScript(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "ltdrive.py")
}

// lt starts ltdrive.py with one JSON argument.
func lt(t *testing.T, ctx context.Context, name string, arg map[string]any) *proc {
	t.Helper()
	needLibtorrent(t)
	b, _ := json.Marshal(arg)
	return startProc(t, ctx, name, t.TempDir(), systemPython, ltScript(t), string(b))
}

// ltLast returns the last status line printed so far.
func ltLast(p *proc) (ltStatus, bool) {
	var st ltStatus
	ok := false
	sc := bufio.NewScanner(strings.NewReader(p.output()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var s ltStatus
		if json.Unmarshal([]byte(line), &s) == nil {
			st, ok = s, true
		}
	}
	return st, ok
}

// ltWaitDone waits for a check or download run to exit with "done".
func ltWaitDone(t *testing.T, p *proc, what string, timeout time.Duration) ltStatus {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		st, _ := ltLast(p)
		t.Fatalf("libtorrent %s: not done within %s (last status %+v)", what, timeout, st)
	}
	st, ok := ltLast(p)
	if p.err != nil || !ok || !st.Done {
		t.Fatalf("libtorrent %s: exit %v, last status %+v: %s", what, p.err, st, tail([]byte(p.output()), 2048))
	}
	return st
}

// ltSeed starts a libtorrent seeder of torrent with its data under
// savePath and waits until it has checked the data and is seeding.
func ltSeed(t *testing.T, ctx context.Context, torrent, savePath string, port int) *proc {
	t.Helper()
	return ltSeedOpts(t, ctx, map[string]any{"torrent": torrent, "save_path": savePath, "port": port})
}

// ltSeedOpts is ltSeed with ltdrive.py arguments (torrent, save_path, port,
// optional tcp_only).
func ltSeedOpts(t *testing.T, ctx context.Context, arg map[string]any) *proc {
	t.Helper()
	arg["mode"] = "seed"
	p := lt(t, ctx, "libtorrent-seed", arg)
	waitFor(t, "libtorrent seeding", 2*time.Minute, func() (bool, string) {
		if p.exited() {
			t.Fatalf("libtorrent seeder exited: %v: %s", p.err, tail([]byte(p.output()), 2048))
		}
		st, ok := ltLast(p)
		return ok && st.Seeding && st.Progress == 1, st.State
	})
	return p
}

// ltCreate makes a v1 torrent of root with libtorrent.
func ltCreate(t *testing.T, ctx context.Context, root, out string, pieceLen int, tracker string) {
	t.Helper()
	p := lt(t, ctx, "libtorrent-create", map[string]any{"mode": "create", "path": root, "out": out, "piece_length": pieceLen, "tracker": tracker})
	ltWaitDone(t, p, "create", 2*time.Minute)
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}
