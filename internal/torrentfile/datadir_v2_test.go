package torrentfile

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLibtorrentSingleFileV2LivesInParent: a v2-only or hybrid torrent of
// one file, made by libtorrent, is a single-file torrent: its data is
// parent/<file>, where libtorrent itself finds every piece (a v2 file tree
// is always a dictionary, which the library reads as a directory).
func TestLibtorrentSingleFileV2LivesInParent(t *testing.T) {
	t.Parallel()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import libtorrent").Run(); err != nil {
		t.Skipf("python3-libtorrent not available: %v", err)
	}
	parent := t.TempDir()
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	writeFile(t, filepath.Join(parent, "one.bin"), data)
	script := `import libtorrent as lt, sys, time
fs = lt.file_storage(); lt.add_files(fs, sys.argv[1] + "/one.bin")
ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v2_only if sys.argv[3] == "v2" else 0)
lt.set_piece_hashes(ct, sys.argv[1])
open(sys.argv[2], "wb").write(lt.bencode(ct.generate()))
s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False})
p = lt.add_torrent_params(); p.ti = lt.torrent_info(sys.argv[2]); p.save_path = sys.argv[1]
h = s.add_torrent(p)
for _ in range(600):
    if h.status().state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data) and h.status().num_pieces == p.ti.num_pieces():
        break
    time.sleep(0.05)
print(h.status().num_pieces, p.ti.num_pieces())`
	for _, kind := range []string{"v2", "hybrid"} {
		out := filepath.Join(t.TempDir(), kind+".torrent")
		res := strings.Fields(run(t, py, "-c", script, parent, out, kind))
		if len(res) != 2 || res[0] != res[1] {
			t.Fatalf("%s: libtorrent has %v pieces of the data in %s/one.bin", kind, res, parent)
		}
		tor, err := Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := tor.DataDirFor(parent); got != parent || len(tor.Files) != 1 || tor.Files[0].Path != "one.bin" {
			t.Fatalf("%s: data dir %s, files %+v; want %s and one.bin", kind, got, tor.Files, parent)
		}
	}
}
