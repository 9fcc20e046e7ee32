package httpapi_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/prometheus/client_golang/prometheus"
)

// metric returns the value of series (name plus labels exactly as
// exposed, e.g. `archivd_torrents{state="active"}`) in a text scrape.
func metric(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("series %s: value %q: %v", series, v, err)
			}
			return f
		}
	}
	t.Fatalf("series %s not in scrape:\n%s", series, body)
	return 0
}

func TestMetricsShowCatalogRowsLiveNumbersAndCounters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sd := seed(t, db)
	live := &fixedLive{up: 123456789, down: 4242, peers: 7}
	counters := httpapi.NewNodeCounters(prometheus.NewRegistry(), "n1")
	s := start(t, httpapi.Options{DB: db, Live: live, Counters: counters, NodeID: "n1"})
	counters.PiecesVerified(38)
	counters.PiecesFailed(2)
	counters.Repaired(1)
	counters.RunFinished("done", 90*time.Second)

	code, body := get(t, nil, "http://"+s.Addr()+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	want := map[string]float64{
		"archivd_catalog_up":                                   1,
		`archivd_engine_up{node="n1"}`:                         1,
		`archivd_torrents{state="active"}`:                     1,
		`archivd_torrents{state="paused"}`:                     1,
		`archivd_torrents{state="unavailable"}`:                1,
		"archivd_findings_open":                                1,
		`archivd_uploaded_bytes_total{node="n1"}`:              123456789,
		`archivd_downloaded_bytes_total{node="n1"}`:            4242,
		`archivd_peers{node="n1"}`:                             7,
		`archivd_pieces_verified_total{node="n1"}`:             38,
		`archivd_pieces_failed_total{node="n1"}`:               2,
		`archivd_repairs_total{node="n1"}`:                     1,
		`archivd_verify_runs_total{node="n1",result="done"}`:   1,
		`archivd_verify_runs_total{node="n1",result="failed"}`: 0,
		`archivd_verify_run_duration_seconds_count{node="n1"}`: 1,
		`archivd_verify_run_duration_seconds_sum{node="n1"}`:   90,
		"archivd_last_successful_verify_timestamp_seconds":     float64(sd.finishedAt.Unix()),
	}
	for series, v := range want {
		if got := metric(t, body, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	if !strings.Contains(body, `archivd_build_info{goversion="go`) || !strings.Contains(body, `version="test-1.2.3"} 1`) {
		t.Errorf("build info missing:\n%s", body)
	}
	if strings.Contains(body, "archivd_torrent_uploaded_bytes_total") {
		t.Errorf("per-torrent series present although PerTorrentMetrics is off")
	}

	// Transfer moves: the next scrape shows the new totals.
	live.set(200000000, 5000)
	_, body = get(t, nil, "http://"+s.Addr()+"/metrics", "")
	if got := metric(t, body, `archivd_uploaded_bytes_total{node="n1"}`); got != 200000000 {
		t.Errorf("after transfer: uploaded = %v, want 200000000", got)
	}
}

func TestMetricsPerTorrentSeriesWhenEnabled(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	live := &fixedLive{perTorrnt: []httpapi.TorrentLive{{InfoHash: "0101010101010101010101010101010101010101",
		Name: "planet", Uploaded: 99, Downloaded: 11, Peers: 3, Complete: 30, Pieces: 40}}}
	s := start(t, httpapi.Options{DB: db, Live: live, PerTorrentMetrics: true, NodeID: "n1"})
	_, body := get(t, nil, "http://"+s.Addr()+"/metrics", "")
	l := `{infohash="0101010101010101010101010101010101010101",name="planet",node="n1"}`
	for series, v := range map[string]float64{
		"archivd_torrent_uploaded_bytes_total" + l:   99,
		"archivd_torrent_downloaded_bytes_total" + l: 11,
		"archivd_torrent_peers" + l:                  3,
		"archivd_torrent_pieces_complete" + l:        30,
		"archivd_torrent_pieces" + l:                 40,
	} {
		if got := metric(t, body, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	// An empty catalog still exposes every state, and no success timestamp.
	if got := metric(t, body, `archivd_torrents{state="unavailable"}`); got != 0 {
		t.Errorf("unavailable = %v, want 0", got)
	}
	if strings.Contains(body, "archivd_last_successful_verify_timestamp_seconds ") {
		t.Errorf("last successful verify reported although no run finished")
	}
}

func TestNewRefusesASecondServerOnTheSameCounters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	c := httpapi.NewCounters(prometheus.NewRegistry())
	s, err := httpapi.New(httpapi.Options{Listen: "127.0.0.1:0", DB: db, Counters: c, Logger: testLogger(t)})
	must(t, err)
	defer s.Close()
	if _, err := httpapi.New(httpapi.Options{Listen: "127.0.0.1:0", DB: db, Counters: c, Logger: testLogger(t)}); err == nil ||
		!strings.Contains(err.Error(), "register metrics") {
		t.Fatalf("second New on the same counters: %v, want a register error", err)
	}
}

// TestFleetInMetricsAndStatusPage: the fleet's nodes and flags are
// catalog-wide series (no node label); this node's own series carry it;
// the status page's fleet view lists the nodes and the flags set.
func TestFleetInMetricsAndStatusPage(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, id := range []string{"n1", "n2", "n3"} {
		if _, err := db.StartNode(ctx, id, "h"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "maps"}); err != nil {
		t.Fatal(err)
	}
	planet := addTorrent(t, db.ForNode("n1"), "maps", 1, "planet.osm.pbf", 40) // 10 MiB on n1, none on n3
	if err := db.StopNode(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetNodeAdmin(ctx, "n2", catalog.NodeActive, catalog.NodeMaintenance, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetFleetFlag(ctx, catalog.FlagNoOut, "op", ""); err != nil {
		t.Fatal(err)
	}
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{up: 5}, NodeID: "n1", BalanceMargin: func() float64 { return 0.2 }})
	_, body := get(t, nil, "http://"+s.Addr()+"/metrics", "")
	for series, v := range map[string]float64{
		`archivd_fleet_nodes{state="up"}`:          2,
		`archivd_fleet_nodes{state="down"}`:        1,
		`archivd_fleet_nodes{state="maintenance"}`: 1,
		`archivd_fleet_nodes{state="draining"}`:    0,
		`archivd_fleet_flag{flag="noout"}`:         1,
		`archivd_fleet_flag{flag="noscrub"}`:       0,
		`archivd_uploaded_bytes_total{node="n1"}`:  5,
	} {
		if got := metric(t, body, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	if !strings.Contains(body, `node="n1",version=`) {
		t.Errorf("build info without the node label:\n%s", body)
	}
	code, page := get(t, nil, "http://"+s.Addr()+"/", "")
	// Balance: n1 and n3 hold a share (n2 is down, in maintenance):
	// 5 MiB each, n1 holding 10 and n3 none.
	for _, want := range []string{`<tr data-node="n1"><td>n1 <span class="muted">(this node)</span>`, `data-node="n2"`,
		`down, maintenance`, `data-flag="noout"`, "3 nodes: ",
		`<p id="fleet-balance">Balance: 0 moves in flight; margin 0.2 of each share`,
		`<td class="n">10.0 MiB</td><td class="n">5.0 MiB</td><td class="balance" data-balance="over"><span class="warn">&#43;100.0% over</span></td><td class="n">0 / 0</td>`,
		`<td class="n">0 B</td><td class="n">5.0 MiB</td><td class="balance" data-balance="under"><span class="warn">-100.0% under</span></td>`,
		`holds no share (not up, active and in)`,
		`<p id="fleet-recovery">Recovery: <span class="muted">no replica placed by the planner is fetching</span>`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Fatalf("status page (%d) lacks %q:\n%s", code, want, page)
		}
	}
	if strings.Contains(page, `id="fleet-stalled"`) {
		t.Fatal("stalled replicas shown with none placed")
	}
	// A replica placed on n3 without progress for two hours: stalled
	// (fleet.recovery_stall_after, default 10m).
	pgtest.Exec(t, db, `INSERT INTO replicas (torrent_id, node_id, data_dir, placed_by, progress_at)
		VALUES ($1, 'n3', '/srv/n3/planet', 'n1', now() - interval '2 hours')`, planet.ID)
	code, page = get(t, nil, "http://"+s.Addr()+"/", "")
	if want := `<span class="pill warn">stalled</span> 1 replica placed without progress for 10m0s or more, 10.0 MiB left, the longest since `; code != 200 ||
		!strings.Contains(page, want) || !strings.Contains(page, "(by node: n3 1;") {
		t.Fatalf("status page (%d) lacks %q:\n%s", code, want, page)
	}
}
