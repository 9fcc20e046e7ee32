package httpapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/prometheus/client_golang/prometheus"
)

// promtool returns Prometheus's promtool, skipping the test when it is
// missing, except under CI where a missing tool is a failure.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("promtool is not installed (CI=true): run scripts/deps.sh test (Debian package prometheus)")
	}
	t.Skip("promtool not installed (scripts/deps.sh test installs Debian's prometheus)")
	return ""
}

// scrape returns /metrics of a server on a seeded catalog with a run in
// progress and some bytes hashed.
func scrape(t *testing.T) string {
	t.Helper()
	db := pgtest.New(t)
	seed(t, db)
	ctx := t.Context()
	_, err := db.CreateVerifyRun(ctx, "manual", []byte(`{}`), "", time.Now())
	must(t, err)
	counters := httpapi.NewNodeCounters(prometheus.NewRegistry(), "n1")
	counters.Hashed(12345)
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{peers: 3}, NodeID: "n1", Counters: counters})
	_, body := get(t, nil, "http://"+s.Addr()+"/metrics", "")
	return body
}

func TestMetricsPassPromtoolCheck(t *testing.T) {
	t.Parallel()
	bin := promtool(t)
	body := scrape(t)
	for _, want := range []string{
		`archivd_verify_hashed_bytes_total{node="n1"} 12345`,
		"archivd_pieces_not_verified_in_interval ", "archivd_bytes_not_verified_in_interval ",
		"archivd_oldest_verification_age_seconds ", "archivd_stored_bytes 1.3631488e+07",
		"archivd_complete_bytes 1.3631488e+07", "archivd_verify_run_active 1", "archivd_verify_run_paused 0",
		`archivd_catalog_pool_connections{node="n1",state="max"}`, `archivd_catalog_pool_acquire_waits_total{node="n1"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}
