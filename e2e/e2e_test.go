// Package e2e runs whole archivd processes, each on its own embedded
// PostgreSQL, against each other over loopback: the story an operator lives.
package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

type torrentJSON struct {
	Name           string `json:"name"`
	InfoHash       string `json:"infohash"`
	PieceCount     int    `json:"piece_count"`
	PieceLength    int64  `json:"piece_length"`
	PiecesComplete int    `json:"pieces_complete"`
	OpenFindings   int    `json:"open_findings"`
	DataDir        string `json:"data_dir"`
	Downloaded     int64  `json:"downloaded_bytes"`
	LivePeers      int    `json:"live_peers"`
	Peers          []struct {
		Addr string `json:"addr"`
	} `json:"peers"`
}

type reportJSON struct {
	Run struct {
		ID             int64  `json:"id"`
		Kind           string `json:"kind"`
		State          string `json:"state"`
		PiecesChecked  int64  `json:"pieces_checked"`
		PiecesFailed   int64  `json:"pieces_failed"`
		PiecesRepaired int64  `json:"pieces_repaired"`
	} `json:"run"`
	Findings []struct {
		Piece        int    `json:"piece"`
		Kind         string `json:"kind"`
		State        string `json:"state"`
		RepairSource string `json:"repair_source"`
	} `json:"findings"`
}

// makeDataset writes a nested tree of random files: one empty file, sizes
// that are not multiples of the piece length.
func makeDataset(t testing.TB, root string, rng *rand.Rand) string {
	t.Helper()
	dir := filepath.Join(root, "dataset")
	files := map[string]int{
		"readme.txt": 1234, "empty": 0, "a/part-000.bin": 9<<20 + 17, "a/part-001.bin": 7 << 20,
		"a/b/deep.bin": 5<<20 + 4095, "c/tail.bin": 3<<20 + 1,
	}
	writeRandomTree(t, dir, rng, files)
	return dir
}

func treeHashes(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t testing.TB, a, b string) bool {
	t.Helper()
	ha, hb := treeHashes(t, a), treeHashes(t, b)
	if len(ha) != len(hb) {
		return false
	}
	for k, v := range ha {
		if hb[k] != v {
			return false
		}
	}
	return true
}

// flip inverts one byte of the dataset copy at torrent offset off (files
// in torrent order: sorted paths).
func flip(t testing.TB, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xa5
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func TestE2EArchiveSurvivesKillsAndRepairsBitrot(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	tracker := testutil.StartTracker(t)
	verifyCfg := "verify:\n  schedules: [\"@every 10s\"]\n  max_run: 0s\n  interval: 1s\n  range_bytes: 4MiB\n  report_dir: %s\n"
	a := newInstance(t, "a", tracker.URL, "")
	b := newInstance(t, "b", tracker.URL, "")
	if err := os.WriteFile(b.config, append(mustRead(t, b.config), fmt.Sprintf(verifyCfg, filepath.Join(b.dir, "reports"))...), 0o644); err != nil {
		t.Fatal(err)
	}

	// A adopts a dataset where it lies and writes the .torrent.
	src := makeDataset(t, a.dir, rng)
	tfile := filepath.Join(a.dir, "dataset.torrent")
	ta := a.adopt("science", src, "256KiB", tfile)
	if ta.PiecesComplete != ta.PieceCount || ta.PieceCount == 0 {
		t.Fatalf("A: created torrent not recorded verified: %+v", ta)
	}
	tracker.Allow(t, ta.InfoHash)

	// B imports the .torrent into an empty collection directory.
	b.importTorrent("science", filepath.Join(b.dir, "data"), tfile)
	a.start()
	b.start()

	// SIGKILL B three times while it downloads; every restart resumes.
	for i := 0; i < 3; i++ {
		// Not a wait: the random moment of the kill is what is under test.
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		b.kill()
		b.start()
	}
	a.kill() // and A once: it must seed again without re-hashing
	a.start()
	var tb torrentJSON
	testutil.Eventually(t, 4*time.Minute, "B complete", func() bool {
		b.cliJSON(&tb, "show", "dataset")
		return tb.PiecesComplete == tb.PieceCount
	})
	if !sameTree(t, src, tb.DataDir) {
		t.Fatal("B's copy differs from A's after the download")
	}

	// Bitrot on B: flip bytes in two pieces; the scheduled scrub finds them
	// and B repairs them from A.
	flip(t, filepath.Join(tb.DataDir, "a", "part-000.bin"), 3<<20+100)
	flip(t, filepath.Join(tb.DataDir, "c", "tail.bin"), 1<<20+7)
	// A scheduled run may be hashing while the bytes are flipped: one run
	// can find one piece and the next run the other. Both must be found
	// and repaired, by scheduled runs.
	var reps []reportJSON
	var seen string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("B's runs with failures at the last look: %s", seen)
		}
	})
	testutil.Eventually(t, 3*time.Minute, "scheduled scrubs find both pieces and B repairs them", func() bool {
		var runs []struct {
			ID             int64 `json:"id"`
			PiecesFailed   int64 `json:"pieces_failed"`
			PiecesRepaired int64 `json:"pieces_repaired"`
		}
		b.cliJSON(&runs, "report", "--list", "50")
		reps, seen = nil, ""
		var failed, repaired int64
		for _, r := range runs {
			if r.PiecesFailed == 0 {
				continue
			}
			var rep reportJSON
			out := b.cli(0, "report", fmt.Sprint(r.ID), "--format", "json")
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("report json: %v", err)
			}
			reps = append(reps, rep)
			failed += rep.Run.PiecesFailed
			repaired += rep.Run.PiecesRepaired
			seen += fmt.Sprintf("run %d (%s): %d failed, %d repaired; ", rep.Run.ID, rep.Run.Kind, rep.Run.PiecesFailed, rep.Run.PiecesRepaired)
		}
		return failed == 2 && repaired == 2
	})
	// The source is A: its listen address and the client name of its
	// extended handshake (archivd's module, anacrolix/torrent's version).
	aPort := regexp.MustCompile(`listen_port: (\d+)`).FindSubmatch(mustRead(t, a.config))
	if aPort == nil {
		t.Fatal("no listen_port in A's config")
	}
	srcPrefix := fmt.Sprintf("peer 127.0.0.1:%s (github.com/archivd/archivd ", aPort[1])
	for _, rep := range reps {
		if rep.Run.Kind != "scheduled" {
			t.Errorf("repairing run %d was %q, want scheduled", rep.Run.ID, rep.Run.Kind)
		}
		for _, f := range rep.Findings {
			if f.Kind != "hash_mismatch" || f.State != "repaired" {
				t.Errorf("finding %+v: want a repaired hash_mismatch", f)
			}
			if !strings.HasPrefix(f.RepairSource, srcPrefix) || !strings.HasSuffix(f.RepairSource, "(anacrolix/torrent v1.61.0))") {
				t.Errorf("finding of piece %d repaired from %q, want %q...(anacrolix/torrent v1.61.0))", f.Piece, f.RepairSource, srcPrefix)
			}
		}
	}
	if !sameTree(t, src, tb.DataDir) {
		t.Fatal("B's copy differs from A's after repair")
	}
	// /metrics tells the same story: bytes received, pieces verified, repairs.
	m := b.metrics()
	for _, name := range []string{"archivd_downloaded_bytes_total", "archivd_pieces_verified_total",
		"archivd_pieces_failed_total", "archivd_repairs_total"} {
		if m[name] <= 0 {
			t.Errorf("B /metrics: %s = %v, want > 0", name, m[name])
		}
	}

	// A clean stop writes transfer totals and peers (a kill loses at most
	// the last 30s of counting); they survive the restart.
	b.stop()
	b.start()
	b.cliJSON(&tb, "show", "dataset")
	if tb.Downloaded <= 0 || len(tb.Peers) == 0 {
		t.Errorf("B show: downloaded %d bytes, %d known peers; want both > 0", tb.Downloaded, len(tb.Peers))
	}
	// A kill during quiet seeding loses nothing; the report was also written to disk.
	b.kill()
	b.start()
	b.cliJSON(&tb, "show", "dataset")
	if tb.PiecesComplete != tb.PieceCount || tb.OpenFindings != 0 {
		t.Fatalf("B after restart: %+v", tb)
	}
	files, _ := filepath.Glob(filepath.Join(b.dir, "reports", "*"))
	if len(files) == 0 {
		t.Error("no report file in verify.report_dir")
	}
	for _, rep := range reps {
		table := b.cli(0, "report", fmt.Sprint(rep.Run.ID))
		if !strings.Contains(table, "repaired") || !strings.Contains(table, srcPrefix) {
			t.Errorf("report table of run %d does not tell the repair and its source:\n%s", rep.Run.ID, table)
		}
	}
	a.stop()
	b.stop()
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}
