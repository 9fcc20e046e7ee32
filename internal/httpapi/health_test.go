package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
)

// The seeded catalog has an unavailable torrent and an open finding: the
// same evaluation shows at /healthz/detail, in /metrics and on the status
// page's badge, while /readyz (a process check) stays ready.
func TestHealthDetailMetricsAndBadgeShowOneEvaluation(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sd := seed(t, db)
	// The seeded data dirs (/data/...) are measured at /: thresholds any
	// host's / meets, so that HEALTH_OK below does not depend on its free space.
	roomy := health.Config{LowSpace: &config.FreeSpace{IsPercent: true}, FullSpace: &config.FreeSpace{Bytes: config.MiB}}
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}, NodeID: "n1", Health: health.New(db, nil, roomy)})
	base := "http://" + s.Addr()

	code, body := get(t, nil, base+"/healthz/detail", "")
	var rep health.Report
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil || rep.Status != health.Err {
		t.Fatalf("/healthz/detail: %d %s", code, body)
	}
	un, ok := rep.Raised(health.TorrentUnavailable)
	if !ok || len(un.Torrents) != 1 || un.Torrents[0].InfoHash != sd.gone.HexHash() || un.Torrents[0].Reason != "data directory missing" {
		t.Fatalf("TORRENT_UNAVAILABLE: %+v", un)
	}
	if d, ok := rep.Raised(health.DamageOpen); !ok || d.Severity != health.Err || d.Torrents[0].Name != "planet-2026.osm.pbf" {
		t.Fatalf("DAMAGE_OPEN: %+v", d)
	}

	_, metrics := get(t, nil, base+"/metrics", "")
	for _, want := range []string{
		`archivd_health_status{node="n1"} 2`,
		`archivd_health_check{code="TORRENT_UNAVAILABLE",node="n1"} 2`,
		`archivd_health_check{code="DAMAGE_OPEN",node="n1"} 2`,
		`archivd_health_check{code="SCRUB_BEHIND_SCHEDULE",node="n1"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_, page := get(t, nil, base+"/", "")
	if !strings.Contains(page, `<span class="pill bad" id="badge">HEALTH_ERR</span>`) ||
		!strings.Contains(page, "africa.osm.pbf") || !strings.Contains(page, "data directory missing") {
		t.Errorf("status page badge or unavailable torrent missing:\n%s", page)
	}
	if code, body := get(t, nil, base+"/readyz", ""); code != http.StatusOK {
		t.Errorf("/readyz with data health ERR: %d %s", code, body)
	}

	// The condition goes: the badge turns green.
	must(t, db.SetAvailability(t.Context(), sd.gone.ID, catalog.AvailabilityOf{State: catalog.AvailabilityOK}))
	must(t, db.RepairVerifyFindings(t.Context(), []int64{sd.findingID}, "test", time.Now()))
	if _, page := get(t, nil, base+"/", ""); !strings.Contains(page, `<span class="pill ok" id="badge">HEALTH_OK</span>`) {
		t.Errorf("badge not green once healthy")
	}
}
