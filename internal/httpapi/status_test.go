package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// chromium returns the headless browser, skipping the test when it is
// missing, except under CI where a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("internal/httpapi: chromium is not installed (CI=true): run scripts/deps.sh test")
	}
	t.Skip("internal/httpapi: chromium not installed, status page not rendered (scripts/deps.sh test installs it)")
	return ""
}

// runChromium runs headless Chromium with args plus url and returns stdout.
func runChromium(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func TestStatusPageRendersInHeadlessChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	db := pgtest.New(t)
	sd := seed(t, db)
	live := &fixedLive{peers: 12}
	s := start(t, httpapi.Options{DB: db, Live: live, Version: "v0.9.0", SampleInterval: 100 * time.Millisecond, SampleKeep: 150})
	// Made-up traffic while the browser runs: upload swinging between 2
	// and 14 MiB/s, a download burst every few seconds.
	stop, fed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(fed)
		var up, down float64
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			up += (8 + 6*math.Sin(float64(i)/40)) * (1 << 20) / 100
			if i%300 > 200 {
				down += 10 * (1 << 20) / 100
			}
			live.set(int64(up), int64(down))
		}
	}()
	defer func() { close(stop); <-fed }()
	// Enough samples (one each 100 ms) for the throughput chart.
	testutil.Eventually(t, 30*time.Second, "20 throughput samples", func() bool {
		var out struct{ Samples []httpapi.Sample }
		getJSON(t, "http://"+s.Addr()+"/api/v1/throughput", &out)
		return len(out.Samples) >= 20
	})
	url := "http://" + s.Addr() + "/"

	dom := runChromium(t, bin, url, "--dump-dom")
	for _, want := range []string{
		"<b>maps</b>", "OpenStreetMap extracts", // the collection
		fmt.Sprintf("#%d (scheduled)", sd.runID), "2026-11-20 03:04:05 UTC", // the last run
		"planet-2026.osm.pbf", "hash_mismatch", // the open finding
		"<polyline", "v0.9.0", `id="ready"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("status page DOM lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	runChromium(t, bin, url, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars")
	f, err := os.Open(shot)
	must(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %v, want 1280x900", b)
	}
	// ARCHIVD_STATUS_SCREENSHOT=/path/status-page.png keeps the picture
	// (docs/status-page.png is made this way).
	if dst := os.Getenv("ARCHIVD_STATUS_SCREENSHOT"); dst != "" {
		b, err := os.ReadFile(shot)
		must(t, err)
		must(t, os.WriteFile(dst, b, 0o644))
	}
}
