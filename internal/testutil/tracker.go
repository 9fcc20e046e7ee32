package testutil

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// The tracker the tests run is opentracker in whitelist mode (Debian's
// build): these ask it, over HTTP, what a test would otherwise sleep for.

var trackerClient = &http.Client{Timeout: 5 * time.Second}

func trackerGet(u string, out any) error {
	resp, err := trackerClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := bencode.Unmarshal(b, out); err != nil {
		return fmt.Errorf("GET %s: %w: %q", u, err, b)
	}
	return nil
}

// hashParam is an info hash as a query parameter, every byte
// percent-encoded. Not url.Values: it writes a 0x20 byte as "+", which
// opentracker reads as 0x2b, so about one hash in 13 (those with a 0x20
// byte) was announced and scraped as another hash, refused by the
// whitelist and never counted.
func hashParam(ih [20]byte) string {
	var b strings.Builder
	b.WriteString("info_hash=")
	for _, c := range ih {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// TrackerAllows announces infohash to the tracker at announceURL and
// reports whether it was accepted (a whitelisting tracker refuses a hash
// not in its list, and takes a reloaded list in on a thread of its own).
// The peer it announces (port 1, a leecher: never counted as a seeder) is
// announced stopped again at once.
func TrackerAllows(announceURL string, infohash [20]byte) (bool, error) {
	q := url.Values{"peer_id": {"-ARCHIVDTEST-0000000"}, "port": {"1"},
		"uploaded": {"0"}, "downloaded": {"0"}, "left": {"1"}, "numwant": {"0"}, "compact": {"1"}}
	var r struct {
		Failure string `bencode:"failure reason"`
	}
	q.Set("event", "started")
	if err := trackerGet(announceURL+"?"+hashParam(infohash)+"&"+q.Encode(), &r); err != nil {
		return false, err
	}
	if r.Failure != "" {
		return false, nil
	}
	q.Set("event", "stopped")
	return true, trackerGet(announceURL+"?"+hashParam(infohash)+"&"+q.Encode(), &r)
}

// TrackerSeeders is the number of seeders of infohash the tracker at
// announceURL counts (its scrape).
func TrackerSeeders(announceURL string, infohash [20]byte) (int, error) {
	scrape, ok := strings.CutSuffix(announceURL, "/announce")
	if !ok {
		return 0, fmt.Errorf("tracker URL %s does not end in /announce", announceURL)
	}
	var r struct {
		Files map[string]struct {
			Complete int `bencode:"complete"`
		} `bencode:"files"`
	}
	if err := trackerGet(scrape+"/scrape?"+hashParam(infohash), &r); err != nil {
		return 0, err
	}
	return r.Files[string(infohash[:])].Complete, nil
}

// Tracker is an opentracker on a free loopback port, stopped when the
// test ends.
type Tracker struct {
	// URL is its announce URL.
	URL       string
	whitelist string
	cmd       *exec.Cmd
}

// StartTracker runs opentracker on 127.0.0.1 tracking the given info
// hashes (Debian builds it in whitelist mode); Allow adds more. Without
// opentracker the test is skipped, or failed in CI.
func StartTracker(t testing.TB, infohashes ...[20]byte) *Tracker {
	t.Helper()
	if _, err := exec.LookPath("opentracker"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("opentracker is not installed (apt-get install opentracker)")
		}
		t.Skip("opentracker is not installed (apt-get install opentracker)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// opentracker chroots to -d before it reads the whitelist: keep both
	// in one directory and name the file relative to it.
	dir := t.TempDir()
	tr := &Tracker{whitelist: filepath.Join(dir, "whitelist")}
	var list strings.Builder
	for _, ih := range infohashes {
		fmt.Fprintf(&list, "%x\n", ih)
	}
	if err := os.WriteFile(tr.whitelist, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tr.cmd = exec.Command("opentracker", "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-P", fmt.Sprint(port), "-d", dir, "-w", "whitelist")
	if err := tr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.cmd.Process.Kill(); _ = tr.cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	Eventually(t, 10*time.Second, "tracker listening on "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	tr.URL = "http://" + addr + "/announce"
	for _, ih := range infohashes {
		tr.waitAllows(t, ih)
	}
	return tr
}

// Allow adds infohash (hex, as the CLI prints it) to the tracker's
// whitelist, has it reload the list (SIGHUP) and waits until it takes
// announces of it.
func (tr *Tracker) Allow(t testing.TB, infohash string) {
	t.Helper()
	b, err := hex.DecodeString(infohash)
	if err != nil || len(b) != 20 {
		t.Fatalf("allow %q: not a hex info hash", infohash)
	}
	f, err := os.OpenFile(tr.whitelist, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, infohash)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	tr.waitAllows(t, [20]byte(b))
}

func (tr *Tracker) waitAllows(t testing.TB, ih [20]byte) {
	t.Helper()
	Eventually(t, 10*time.Second, fmt.Sprintf("the tracker taking announces of %x", ih), func() bool {
		ok, err := TrackerAllows(tr.URL, ih)
		if err != nil {
			t.Fatalf("announce to %s: %v", tr.URL, err)
		}
		return ok
	})
}

// WaitSeeders waits until the tracker counts n seeders of infohash.
func (tr *Tracker) WaitSeeders(t testing.TB, ih [20]byte, n int, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, fmt.Sprintf("%d seeders of %x announced", n, ih), func() bool {
		got, err := TrackerSeeders(tr.URL, ih)
		if err != nil {
			t.Fatalf("scrape %s: %v", tr.URL, err)
		}
		return got >= n
	})
}
