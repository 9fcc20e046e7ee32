package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ltPeer is a libtorrent peer driven by interop/testdata/ltdrive.py: a
// real BitTorrent client on its own loopback address.
type ltPeer struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
	once sync.Once
}

// ltStatus is one status line of ltdrive.py.
type ltStatus struct {
	State      string  `json:"state"`
	Progress   float64 `json:"progress"`
	Seeding    bool    `json:"seeding"`
	Peers      int     `json:"peers"`
	Downloaded int64   `json:"downloaded"`
	Uploaded   int64   `json:"uploaded"`
	Done       bool    `json:"done"`
}

func ltDrive(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../interop/testdata/ltdrive.py")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(systemPython, "-c", "import libtorrent").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-libtorrent is not installed for /usr/bin/python3: %s", out)
		}
		t.Skipf("python3-libtorrent is not installed for /usr/bin/python3: %s", out)
	}
	return p
}

// startLibtorrent runs ltdrive.py with arg (see its doc: mode, torrent,
// save_path, port, host, peers, rate limits); it is killed when the test
// ends.
func startLibtorrent(t testing.TB, name string, arg map[string]any) *ltPeer {
	t.Helper()
	script := ltDrive(t)
	b, _ := json.Marshal(arg)
	p := &ltPeer{t: t, name: name, out: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(systemPython, script, string(b))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output tail:\n%s", name, tail(p.out.String(), 10))
		}
	})
	return p
}

// last is the newest status line; it fails the test if the peer exited.
func (p *ltPeer) last() ltStatus {
	p.t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		p.t.Fatalf("%s exited: %v\n%s", p.name, err, tail(p.out.String(), 10))
	default:
	}
	var st ltStatus
	sc := bufio.NewScanner(strings.NewReader(p.out.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s ltStatus
		if line := sc.Text(); strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &s) == nil {
			st = s
		}
	}
	return st
}

// stop kills the peer (idempotent).
func (p *ltPeer) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		err := <-p.done
		p.done <- err
	})
}

// systemPython is Debian's interpreter, which has python3-libtorrent: the
// python3 on PATH may be another (pyenv).
const systemPython = "/usr/bin/python3"
