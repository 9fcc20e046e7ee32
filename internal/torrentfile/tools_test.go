package torrentfile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestMktorrentRoundTrip parses torrents made by mktorrent (single and
// multi-file) and checks the files, and that Create gives the same infohash
// for the same data and piece length.
func TestMktorrentRoundTrip(t *testing.T) {
	t.Parallel()
	mk := requireTool(t, "mktorrent")
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	files := makeNestedTree(t, dir)
	out := filepath.Join(t.TempDir(), "m.torrent")
	run(t, mk, "-l", "15", "-a", "http://127.0.0.1:6969/announce", "-w", "http://127.0.0.1:8/ws/", "-o", out, dir)
	mt, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if mt.Name != "data" || len(mt.Files) != len(files) || mt.PieceLength != 32<<10 {
		t.Fatalf("name %q files %+v piece length %d", mt.Name, mt.Files, mt.PieceLength)
	}
	for _, f := range mt.Files {
		if n, ok := files[f.Path]; !ok || int64(n) != f.Length {
			t.Errorf("mktorrent file %+v not in the tree (%d)", f, n)
		}
	}
	if len(mt.Trackers) != 1 || mt.Trackers[0] != "http://127.0.0.1:6969/announce" || len(mt.WebSeeds) != 1 {
		t.Errorf("trackers %v webseeds %v", mt.Trackers, mt.WebSeeds)
	}
	ct, err := Create(context.Background(), CreateOptions{Path: dir, PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if ct.InfoHash != mt.InfoHash {
		t.Errorf("Create infohash %x != mktorrent %x", ct.InfoHash, mt.InfoHash)
	}
	single := filepath.Join(t.TempDir(), "s.torrent")
	run(t, mk, "-l", "16", "-o", single, filepath.Join(dir, "top.bin"))
	st, err := Load(single)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "top.bin" || len(st.Files) != 1 || st.Files[0].Path != "top.bin" || st.DataDirFor(dir) != dir {
		t.Errorf("single: name %q files %+v", st.Name, st.Files)
	}
}

// TestLibtorrentHybridParses creates a hybrid v1+v2 torrent with libtorrent
// 2.x and checks both infohashes and the file layout.
func TestLibtorrentHybridParses(t *testing.T) {
	t.Parallel()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import libtorrent").Run(); err != nil {
		t.Skipf("python3-libtorrent not available: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	files := makeNestedTree(t, dir)
	out := filepath.Join(t.TempDir(), "h.torrent")
	script := `import libtorrent as lt, sys
fs = lt.file_storage(); lt.add_files(fs, sys.argv[1])
ct = lt.create_torrent(fs, 16384); lt.set_piece_hashes(ct, sys.argv[2])
open(sys.argv[3], "wb").write(lt.bencode(ct.generate()))
ti = lt.torrent_info(sys.argv[3]); ih = ti.info_hashes()
print(str(ih.v1), str(ih.v2))`
	res := run(t, py, "-c", script, dir, filepath.Dir(dir), out)
	tor, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(res)
	if len(want) != 2 || fmt.Sprintf("%x", tor.InfoHash) != want[0] || fmt.Sprintf("%x", tor.InfoHashV2) != want[1] {
		t.Fatalf("hashes v1 %x v2 %x, libtorrent says %q", tor.InfoHash, tor.InfoHashV2, res)
	}
	if len(tor.Files) != len(files) {
		t.Fatalf("files %+v", tor.Files)
	}
	for _, f := range tor.Files {
		if n, ok := files[f.Path]; !ok || int64(n) != f.Length || f.Offset%tor.PieceLength != 0 {
			t.Errorf("file %+v: tree has %d, offsets must be piece-aligned in v2", f, n)
		}
	}
}

// TestAria2VerifiesCreatedTorrent has aria2c hash-check data against a
// torrent made by Create, with no network use (no trackers, DHT, LPD or
// PEX): intact data verifies completely; one flipped byte makes it fail.
func TestAria2VerifiesCreatedTorrent(t *testing.T) {
	t.Parallel()
	requireTool(t, "aria2c")
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	makeNestedTree(t, dir)
	tor, err := Create(context.Background(), CreateOptions{Path: dir, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(t.TempDir(), "t.torrent")
	writeFile(t, tf, tor.Raw)
	if ok, out := aria2Verify(t, tf, parent); !ok {
		t.Fatalf("aria2c did not verify intact data:\n%s", out)
	}
	victim := filepath.Join(dir, "a", "z.bin")
	b, _ := os.ReadFile(victim)
	b[40_000] ^= 1
	writeFile(t, victim, b)
	if ok, out := aria2Verify(t, tf, parent); ok {
		t.Fatalf("aria2c verified data with a flipped byte:\n%s", out)
	}
}

// aria2Verify runs aria2c -V (check integrity) on existing data. A complete
// check seeds for 0 s and exits 0; a failed piece makes aria2c try to
// download it, which stops after --bt-stop-timeout with a non-zero exit.
func aria2Verify(tb testing.TB, torrent, parent string) (bool, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aria2c", "-V", "--dir="+parent, "--bt-enable-lpd=false",
		"--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false",
		"--bt-seed-unverified=false", "--seed-time=0", "--bt-stop-timeout=2",
		"--listen-port="+fmt.Sprint(testutil.FreePort(tb, "127.0.0.1")), "--summary-interval=0", "--console-log-level=notice",
		"--auto-save-interval=0", "--allow-overwrite=false", torrent)
	out, err := cmd.CombinedOutput()
	ok := err == nil && strings.Contains(string(out), "Verification finished successfully")
	return ok, string(out)
}

func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}
