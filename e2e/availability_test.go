package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

type availJSON struct {
	InfoHash           string `json:"infohash"`
	Availability       string `json:"availability"`
	AvailabilityCause  string `json:"availability_cause"`
	AvailabilityReason string `json:"availability_reason"`
	PieceCount         int    `json:"piece_count"`
	PiecesComplete     int    `json:"pieces_complete"`
}

// inEngine reports whether the daemon runs the torrent: per-torrent
// metrics exist only for torrents in the engine.
func (in *instance) inEngine(infohash string) bool {
	return strings.Contains(in.scrape(), `archivd_torrent_pieces_complete{infohash="`+infohash+`"`)
}

// scrape returns the body of /metrics.
func (in *instance) scrape() string {
	in.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", in.http))
	if err != nil {
		in.t.Fatalf("%s: scrape /metrics: %v", in.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatalf("%s: read /metrics: %v", in.name, err)
	}
	return string(b)
}

// TestUnavailableTorrentComesBackEveryWay: a torrent whose data directory
// was moved away and scrubbed (unavailable, repair held) becomes available
// and seeds again once the data is back, by each way out the operator
// has: `archivd resume NAME` (the command the log line names), SIGHUP, a
// clean `archivd verify NAME`, a restart, and pause then resume. Every
// time the data is hashed, not trusted: the held findings close as found
// intact, and a resume while the data is still away fails with exit 6.
func TestUnavailableTorrentComesBackEveryWay(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	a := newInstance(t, "a", "http://127.0.0.1:9/announce", "  per_torrent_metrics: true\n")
	src := makeDataset(t, a.dir, rng)
	a.adopt("science", src, "256KiB", "")
	var tj availJSON
	a.cliJSON(&tj, "show", "dataset")
	a.start()
	testutil.Eventually(t, time.Minute, "dataset seeding", func() bool { return a.inEngine(tj.InfoHash) })

	away := src + ".away"
	takeAway := func(step string) {
		t.Helper()
		if err := os.Rename(src, away); err != nil {
			t.Fatal(err)
		}
		a.cli(6, "verify", "dataset", "--wait")
		a.cliJSON(&tj, "show", "dataset")
		if tj.Availability != "unavailable" || tj.AvailabilityCause != "data_missing" {
			t.Fatalf("%s: after a scrub of the moved-away data: %+v, want unavailable (data_missing)", step, tj)
		}
		testutil.Eventually(t, 30*time.Second, step+": dataset out of the engine", func() bool { return !a.inEngine(tj.InfoHash) })
	}
	bringBack := func() {
		t.Helper()
		if err := os.Rename(away, src); err != nil {
			t.Fatal(err)
		}
	}
	seedsAgain := func(step string, d time.Duration) {
		t.Helper()
		testutil.Eventually(t, d, step+": dataset available and seeding", func() bool {
			a.cliJSON(&tj, "show", "dataset")
			return tj.Availability == "ok" && a.inEngine(tj.InfoHash)
		})
		if tj.PiecesComplete != tj.PieceCount {
			t.Fatalf("%s: %d of %d pieces complete after coming back", step, tj.PiecesComplete, tj.PieceCount)
		}
	}

	// 1. The command the log line names.
	takeAway("resume")
	if !strings.Contains(a.log.String(), "`archivd resume dataset`") {
		t.Error("no log line names `archivd resume dataset`")
	}
	out := a.cli(6, "resume", "dataset") // data still away: refused, says why
	if !strings.Contains(out, "still unavailable") {
		t.Errorf("resume with the data away printed:\n%s", out)
	}
	bringBack()
	out = a.cli(0, "resume", "dataset")
	if !strings.Contains(out, "available (") {
		t.Errorf("resume printed:\n%s", out)
	}
	seedsAgain("resume", 30*time.Second)
	report := a.cli(0, "report", "--format", "json")
	if !strings.Contains(report, "found intact on re-check") {
		t.Errorf("the held findings were not closed as found intact:\n%s", tail(report, 30))
	}

	// 2. SIGHUP: the daemon re-checks at once.
	takeAway("SIGHUP")
	bringBack()
	if err := a.serve.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	seedsAgain("SIGHUP", 30*time.Second)

	// 3. A clean verify.
	takeAway("verify")
	bringBack()
	a.cli(0, "verify", "dataset", "--wait")
	seedsAgain("verify", 30*time.Second)

	// 4. A restart: the daemon's own re-check (first one within a minute).
	takeAway("restart")
	a.stop()
	bringBack()
	a.start()
	seedsAgain("restart", 2*time.Minute)

	// 5. pause, then resume.
	takeAway("pause+resume")
	bringBack()
	a.cli(0, "pause", "dataset")
	a.cli(0, "resume", "dataset")
	seedsAgain("pause+resume", 30*time.Second)
	a.stop()
}
