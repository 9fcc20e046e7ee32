package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	code, body := get(t, nil, url, "")
	if code == 200 {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: decode %q: %v", url, body, err)
		}
	}
	return code
}

func TestJSONAPIServesCatalogRows(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sd := seed(t, db)
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}})
	base := "http://" + s.Addr() + "/api/v1"

	var colls []struct {
		Name       string `json:"name"`
		Torrents   int    `json:"torrents"`
		TotalBytes int64  `json:"total_bytes"`
	}
	getJSON(t, base+"/collections", &colls)
	if len(colls) != 1 || colls[0].Name != "maps" || colls[0].Torrents != 3 || colls[0].TotalBytes != 52<<18 {
		t.Errorf("collections = %+v", colls)
	}

	var ts []struct {
		InfoHash, Name, State, Availability string
	}
	getJSON(t, base+"/torrents?collection=maps", &ts)
	if len(ts) != 3 || ts[0].Name != "africa.osm.pbf" || ts[0].Availability != "unavailable" ||
		ts[2].InfoHash != sd.active.HexHash() {
		t.Errorf("torrents = %+v", ts)
	}
	getJSON(t, base+"/torrents?collection=nope", &ts)
	if len(ts) != 0 {
		t.Errorf("torrents of an unknown collection = %+v", ts)
	}

	var one struct {
		InfoHash       string `json:"infohash"`
		Name           string `json:"name"`
		PiecesComplete int    `json:"pieces_complete"`
		Files          []struct{ Path string }
	}
	if code := getJSON(t, base+"/torrents/"+sd.active.HexHash(), &one); code != 200 ||
		one.Name != "planet-2026.osm.pbf" || one.PiecesComplete != 40 || len(one.Files) != 1 {
		t.Errorf("torrent: %d %+v", code, one)
	}
	if code, body := get(t, nil, base+"/torrents/ffffffffffffffffffffffffffffffffffffffff", ""); code != 404 ||
		!strings.Contains(body, "not found") {
		t.Errorf("unknown torrent: %d %s", code, body)
	}

	var runs []struct {
		ID            int64
		State         string
		PiecesChecked int64 `json:"pieces_checked"`
		Findings      int
	}
	getJSON(t, base+"/runs?limit=5", &runs)
	if len(runs) != 1 || runs[0].ID != sd.runID || runs[0].PiecesChecked != 40 || runs[0].Findings != 2 {
		t.Errorf("runs = %+v", runs)
	}
	var run struct {
		ID          int64
		FindingList []struct{ Piece int } `json:"finding_list"`
	}
	if code := getJSON(t, fmt.Sprintf("%s/runs/%d", base, sd.runID), &run); code != 200 || len(run.FindingList) != 2 {
		t.Errorf("run: %d %+v", code, run)
	}
	if code, _ := get(t, nil, base+"/runs/999999", ""); code != 404 {
		t.Errorf("unknown run: %d, want 404", code)
	}
	if code, _ := get(t, nil, base+"/runs/abc", ""); code != 400 {
		t.Errorf("bad run id: %d, want 400", code)
	}
	if code, _ := get(t, nil, base+"/runs?limit=0", ""); code != 400 {
		t.Errorf("limit=0: %d, want 400", code)
	}

	var fs []struct {
		ID          int64
		TorrentName string `json:"torrent_name"`
		Piece       int
		State       string
	}
	getJSON(t, base+"/findings?state=open", &fs)
	if len(fs) != 1 || fs[0].ID != sd.findingID || fs[0].Piece != 7 || fs[0].TorrentName != "planet-2026.osm.pbf" {
		t.Errorf("open findings = %+v", fs)
	}
	getJSON(t, base+"/findings", &fs)
	if len(fs) != 2 {
		t.Errorf("all findings = %+v", fs)
	}
	if code, body := get(t, nil, base+"/findings?state=bogus", ""); code != 400 || !strings.Contains(body, "bogus") {
		t.Errorf("bad state: %d %s", code, body)
	}
	if code, _ := get(t, nil, "http://"+s.Addr()+"/nope", ""); code != 404 {
		t.Errorf("unknown path: %d, want 404", code)
	}
}

func TestThroughputSamplesTransferRates(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	// Transfer grows steadily (download at half the upload rate) while the
	// sampler runs, computed when the sampler reads it (a feeding
	// goroutine lagged behind on a loaded machine: a sample at a quarter
	// of the rate); the ring keeps only the last 5 samples.
	began := time.Now()
	live := &fixedLive{transfer: func() (int64, int64) {
		up := time.Since(began).Microseconds() * 10
		return up, up / 2
	}}
	s := start(t, httpapi.Options{DB: db, Live: live, SampleInterval: 50 * time.Millisecond, SampleKeep: 5})
	var out struct {
		Samples []httpapi.Sample
	}
	// 5 samples kept, the oldest taken after 0.5s: the ring has wrapped.
	testutil.Eventually(t, 10*time.Second, "the throughput ring wrapped", func() bool {
		getJSON(t, "http://"+s.Addr()+"/api/v1/throughput", &out)
		return len(out.Samples) == 5 && out.Samples[0].UploadedB > 5e6
	})
	for i, smp := range out.Samples {
		if i > 0 && !smp.At.After(out.Samples[i-1].At) {
			t.Errorf("samples not in time order: %+v", out.Samples)
		}
		// 10 bytes per microsecond = 10 MB/s up, 5 MB/s down (timer jitter aside).
		if smp.UploadBps < 5e6 || smp.UploadBps > 20e6 || smp.DownloadBps < 2.5e6 || smp.DownloadBps > 10e6 {
			t.Errorf("sample %d rates %v up / %v down, want about 10e6 / 5e6", i, smp.UploadBps, smp.DownloadBps)
		}
	}
	if code, body := get(t, nil, "http://"+s.Addr()+"/", ""); code != 200 || !strings.Contains(body, "<polyline") {
		t.Errorf("status page has no throughput chart: %d", code)
	}
}

// TestTorrentsSayEngineState: a torrent whose state a running node
// recorded carries it (list and detail); once the node records a clean
// stop, it carries none.
func TestTorrentsSayEngineState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	sd := seed(t, db)
	if _, err := db.StartNode(ctx, "n1", "host"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetEngineStates(ctx, "n1", map[int64]catalog.EngineState{sd.active.ID: catalog.EngineSeeding}); err != nil {
		t.Fatal(err)
	}
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}})
	base := "http://" + s.Addr() + "/api/v1"
	type engine struct{ State, Node string }
	var ts []struct {
		InfoHash string  `json:"infohash"`
		Engine   *engine `json:"engine"`
	}
	getJSON(t, base+"/torrents", &ts)
	seeding := 0
	for _, tr := range ts {
		if tr.Engine != nil {
			if tr.InfoHash != sd.active.HexHash() || tr.Engine.State != "seeding" || tr.Engine.Node != "n1" {
				t.Errorf("engine state of %s: %+v", tr.InfoHash, *tr.Engine)
			}
			seeding++
		}
	}
	if seeding != 1 {
		t.Fatalf("%d torrents with an engine state, want 1: %+v", seeding, ts)
	}
	var one struct{ Engine *engine }
	if getJSON(t, base+"/torrents/"+sd.active.HexHash(), &one); one.Engine == nil || one.Engine.State != "seeding" {
		t.Fatalf("detail: engine %+v, want seeding", one.Engine)
	}
	if err := db.StopNode(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	one.Engine = nil
	if getJSON(t, base+"/torrents/"+sd.active.HexHash(), &one); one.Engine != nil {
		t.Fatalf("detail after the node stopped: engine %+v, want none", *one.Engine)
	}
}
