package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// ownCluster starts a private PostgreSQL this test may stop and start,
// and returns it with a migrated catalog on it.
func ownCluster(t *testing.T) (*pgserver.Server, *catalog.DB) {
	t.Helper()
	srv, _, url := pgtest.Own(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := catalog.Open(ctx, url)
	must(t, err)
	t.Cleanup(db.Close)
	return srv, db
}

func TestReadyzFollowsPostgreSQLStopAndStart(t *testing.T) {
	t.Parallel()
	srv, db := ownCluster(t)
	live := &fixedLive{}
	s := start(t, httpapi.Options{DB: db, Live: live})
	base := "http://" + s.Addr()

	if code, body := get(t, nil, base+"/readyz", ""); code != 200 {
		t.Fatalf("/readyz with PostgreSQL up: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(t, srv.Stop(ctx))

	began := time.Now()
	code, body := get(t, nil, base+"/readyz", "")
	if code != 200 || !strings.Contains(body, "ready (degraded: catalog unreachable") {
		t.Fatalf("/readyz with PostgreSQL stopped: %d %q, want 200 (a process check) reporting the catalog unreachable", code, body)
	}
	code, body = get(t, nil, base+"/metrics", "")
	if code != 200 || metric(t, body, "archivd_catalog_up") != 0 {
		t.Fatalf("/metrics with PostgreSQL stopped: %d, catalog_up should be 0:\n%s", code, body)
	}
	if code, body := get(t, nil, base+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz with PostgreSQL stopped: %d %q", code, body)
	}
	if code, body := get(t, nil, base+"/", ""); code != 200 || !strings.Contains(body, "ready, degraded: catalog down") {
		t.Fatalf("status page with PostgreSQL stopped: %d, want 200 showing degraded", code)
	}
	if d := time.Since(began); d > 15*time.Second {
		t.Errorf("probes with PostgreSQL stopped took %v, want them bounded", d)
	}

	_, err := pgserver.Start(ctx, pgserver.Options{Dir: srv.Dir(), Fast: true})
	must(t, err)
	testutil.Eventually(t, 30*time.Second, "/readyz ready after PostgreSQL returned", func() bool {
		code, body = get(t, nil, base+"/readyz", "")
		return code == 200 && body == "ready\n"
	})
	if _, body := get(t, nil, base+"/metrics", ""); metric(t, body, "archivd_catalog_up") != 1 {
		t.Errorf("catalog_up not back to 1 after PostgreSQL returned")
	}

	live.kill(errEngineStopped)
	if code, body := get(t, nil, base+"/readyz", ""); code != 503 || !strings.Contains(body, "engine stopped") {
		t.Fatalf("/readyz with the engine stopped: %d %q", code, body)
	}
}

func TestReadyNeedsTheEngineAndReportsAnOutdatedSchemaDegraded(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s, err := httpapi.New(httpapi.Options{Listen: "127.0.0.1:0", DB: db, Logger: testLogger(t)})
	must(t, err)
	defer s.Close()
	ctx := context.Background()
	if err := s.Ready(ctx); err == nil || !strings.Contains(err.Error(), "engine: not started") {
		t.Fatalf("Ready without Live: %v", err)
	}
	// Roll the schema back one version: CheckSchema must name it.
	pgtest.Exec(t, db, `UPDATE archivd_schema_version SET version = version - 1`)
	if d := s.Degraded(ctx); !strings.Contains(d, "outdated") {
		t.Fatalf("Degraded with an outdated schema: %q", d)
	}
}
