package httpapi_test

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
)

// seedOps adds to seed: a second collection, a scrub run in progress
// (half its ranges done), peers and history of the damaged torrent.
func seedOps(t *testing.T, db *catalog.DB, sd seeded) int64 {
	t.Helper()
	ctx := context.Background()
	_, err := db.CreateCollection(ctx, catalog.Collection{Name: "books", Description: "Public domain scans"})
	must(t, err)
	addTorrent(t, db, "books", 4, "gutenberg-1900s.tar", 120)
	addTorrent(t, db, "books", 5, "gutenberg-1800s.tar", 60)
	now := time.Now()
	id, err := db.CreateVerifyRun(ctx, catalog.RunManual, []byte(`{}`), "", now.Add(-10*time.Minute))
	must(t, err)
	_, ok, err := db.ClaimVerifyRun(ctx, []catalog.RunKind{catalog.RunManual}, "n1", now.Add(-10*time.Minute))
	if err != nil || !ok {
		t.Fatalf("claim run: %v %v", err, ok)
	}
	must(t, db.EnsureVerifyRanges(ctx, sd.active.ID, sd.active.PieceCount, 10))
	_, planned, err := db.PlanVerifyJobs(ctx, id, []int64{sd.active.ID}, nil)
	must(t, err)
	must(t, db.SetVerifyRunPlanned(ctx, id, planned))
	for range 2 {
		j, ok, err := db.ClaimVerifyJob(ctx, id, "w", now, time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim job: %v %v", err, ok)
		}
		// Piece 7 has an open finding: the job reads it bad again (a job
		// that does not list it bad would close it as found intact).
		var bad []catalog.VerifyFinding
		if j.First <= 7 && 7 < j.First+j.Count {
			bad = []catalog.VerifyFinding{{Piece: 7, Kind: catalog.FindingHashMismatch, FileIndex: -1}}
		}
		_, err = db.CompleteVerifyJob(ctx, j, "w", catalog.VerifyJobResult{BytesHashed: int64(j.Count) << 18, PiecesChecked: int64(j.Count), Bad: bad}, now)
		must(t, err)
	}
	must(t, db.SavePeers(ctx, []catalog.Peer{{TorrentID: sd.active.ID, Addr: "127.0.0.2:51413", Source: "tracker"},
		{TorrentID: sd.active.ID, Addr: "127.0.0.3:6881", Source: "pex"}}))
	must(t, db.AddTorrentEvent(ctx, sd.active.ID, "added", "added from /srv/import/planet.torrent", nil))
	must(t, db.AddTorrentEvent(ctx, sd.active.ID, "verify_bad_piece", "piece 7 failed: sha1 differs", nil))
	return id
}

// rowsOf returns the torrent names in the list, in order.
func rowsOf(dom string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr class="t-[a-z]+"><td><a href="/torrents/[0-9a-f]+">([^<]+)</a>`).FindAllStringSubmatch(dom, -1) {
		out = append(out, m[1])
	}
	return out
}

// shoot saves a screenshot of url and checks it decodes; with
// ARCHIVD_DOCS_SCREENSHOTS=1 it is also written to docs/name.
func shoot(t *testing.T, bin, url, name string, h int) {
	t.Helper()
	shot := filepath.Join(t.TempDir(), name)
	runChromium(t, bin, url, "--screenshot="+shot, "--window-size=1280,"+itoa(h), "--hide-scrollbars")
	f, err := os.Open(shot)
	must(t, err)
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if os.Getenv("ARCHIVD_DOCS_SCREENSHOTS") == "1" {
		b, err := os.ReadFile(shot)
		must(t, err)
		must(t, os.WriteFile(filepath.Join("..", "..", "docs", name), b, 0o644))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func fmtInt(n int) string { return strconv.Itoa(n) }

func TestStatusPageForOperatingInHeadlessChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	db := pgtest.New(t)
	sd := seed(t, db)
	runID := seedOps(t, db, sd)
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{peers: 2}, Version: "v0.9.0", NodeID: "n1"})
	base := "http://" + s.Addr()

	dom := runChromium(t, bin, base+"/", "--dump-dom")
	for _, want := range []string{
		`<span class="pill bad" id="badge">HEALTH_ERR</span>`, // not green: a torrent is unavailable
		"TORRENT_UNAVAILABLE", "DAMAGE_OPEN",
		"africa.osm.pbf", "data directory missing", // the unavailable torrent, named with its reason
		"1 finding(s) not repaired",                                                 // the damaged one
		"#" + fmtInt(int(runID)) + " (manual)", "50.0% ·", "Next scrub window: <b>", // the running scrub
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if got := rowsOf(dom); len(got) != 5 || got[0] != "africa.osm.pbf" || got[1] != "planet-2026.osm.pbf" {
		t.Errorf("default order (worst state first): %v", got)
	}
	for q, want := range map[string]string{
		"?state=unavailable":                 "africa.osm.pbf",
		"?collection=books&sort=size&desc=1": "gutenberg-1900s.tar,gutenberg-1800s.tar",
		"?q=planet":                          "planet-2026.osm.pbf",
		"?q=0505":                            "gutenberg-1800s.tar", // infohash prefix
		"?collection=maps&state=paused":      "europe.osm.pbf",
	} {
		if got := strings.Join(rowsOf(runChromium(t, bin, base+"/"+q, "--dump-dom")), ","); got != want {
			t.Errorf("%s: rows %q, want %q", q, got, want)
		}
	}

	detail := runChromium(t, bin, base+"/torrents/"+sd.active.HexHash(), "--dump-dom")
	for _, want := range []string{
		"<h1>planet-2026.osm.pbf</h1>", `id="tstate">damaged<`, sd.active.HexHash(), // overview
		"planet-2026.osm.pbf</td><td class=\"n\">10.0 MiB", // files
		"39 complete", "1 damaged", `<i class="pb"></i>`, // pieces
		"hash_mismatch",              // findings
		"127.0.0.2:51413", "tracker", // peers
		"piece 7 failed: sha1 differs", "added from /srv/import/planet.torrent", // history
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("torrent page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("status:\n%s\n\ntorrent:\n%s", dom, detail)
	}
	shoot(t, bin, base+"/", "status-page.png", 1800)
	shoot(t, bin, base+"/torrents/"+sd.active.HexHash(), "status-torrent.png", 1100)
}
