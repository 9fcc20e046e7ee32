package scrub

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// ltScript creates torrents with libtorrent and hash-checks data with it.
// Loopback only: no DHT, LSD, UPnP or NAT-PMP, listening on 127.0.0.1.
const ltScript = `import json, sys, time, libtorrent as lt
a = json.loads(sys.argv[1])
if a["mode"] == "create":
    fs = lt.file_storage(); lt.add_files(fs, a["path"])
    flags = {"v2": lt.create_torrent.v2_only, "hybrid": 0}[a["kind"]]
    ct = lt.create_torrent(fs, a["piece_length"], flags=flags)
    lt.set_piece_hashes(ct, a["parent"])
    open(a["out"], "wb").write(lt.bencode(ct.generate()))
    print(json.dumps({"done": True}))
else:
    s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                    "enable_upnp": False, "enable_natpmp": False})
    p = lt.add_torrent_params(); p.ti = lt.torrent_info(a["torrent"]); p.save_path = a["save_path"]
    p.flags |= lt.torrent_flags.paused
    p.flags &= ~lt.torrent_flags.auto_managed
    h = s.add_torrent(p); h.force_recheck(); h.resume()
    deadline = time.time() + 60
    time.sleep(0.2)
    while time.time() < deadline and h.status().state in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
        time.sleep(0.05)
    st = h.status()
    print(json.dumps({"missing": [i for i, have in enumerate(st.pieces) if not have], "num_pieces": h.torrent_file().num_pieces()}))
`

const ltPython = "/usr/bin/python3"

func requireLibtorrent(t *testing.T) {
	t.Helper()
	if err := exec.Command(ltPython, "-c", "import libtorrent").Run(); err != nil {
		t.Skipf("python3-libtorrent not available: %v", err)
	}
}

// lt runs the script with args and decodes its one JSON line into out.
func lt(t *testing.T, args map[string]any, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a, _ := json.Marshal(args)
	res, err := exec.CommandContext(ctx, ltPython, "-c", ltScript, string(a)).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent %s: %v\n%s", args["mode"], err, res)
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("libtorrent %s: %v\n%s", args["mode"], err, res)
	}
}

// ltMissing hash-checks the data under saveDir with libtorrent and returns
// the pieces it found bad, and its piece count.
func ltMissing(t *testing.T, torrent, saveDir string) ([]int, int) {
	var r struct {
		Missing   []int `json:"missing"`
		NumPieces int   `json:"num_pieces"`
	}
	lt(t, map[string]any{"mode": "check", "torrent": torrent, "save_path": saveDir}, &r)
	return r.Missing, r.NumPieces
}
