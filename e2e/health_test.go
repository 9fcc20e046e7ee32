package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

func (in *instance) get(path string) (int, string) {
	in.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", in.http, path))
	if err != nil {
		in.t.Fatalf("%s: GET %s: %v", in.name, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		in.t.Fatalf("%s: GET %s: %v", in.name, path, err)
	}
	return resp.StatusCode, string(b)
}

type healthJSON struct {
	Status string `json:"status"`
	Checks []struct {
		Code, Severity, Command string
	} `json:"checks"`
}

// commandOf returns the command a raised check prints, with "archivd"
// replaced by the binary under test.
func commandOf(t *testing.T, h healthJSON, code string) []string {
	t.Helper()
	for _, c := range h.Checks {
		if c.Code == code {
			f := strings.Fields(c.Command)
			if f[0] != "archivd" {
				t.Fatalf("%s command %q does not start with archivd", code, c.Command)
			}
			return append([]string{bin}, f[1:]...)
		}
	}
	t.Fatalf("%s not raised: %+v", code, h)
	return nil
}

// TestHealthChecksAndScrubControlWithARealDaemon: the health checks of a
// running daemon through `archivd health` (exit code), /healthz/detail,
// the status page badge and /metrics, raised by a data directory moved
// away and cleared by the command they print; /readyz stays ready
// throughout. Then a rate-limited scrub paused, resumed and cancelled from
// the CLI.
func TestHealthChecksAndScrubControlWithARealDaemon(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	a := newInstance(t, "h", "http://127.0.0.1:9/announce", "verify:\n  rate: 4MiB\n  range_bytes: 1MiB\n")
	src := makeDataset(t, a.dir, rng)
	a.adopt("science", src, "256KiB", "")
	a.start()
	if out := a.cli(0, "health"); out != "HEALTH_OK\n" {
		t.Fatalf("fresh daemon: %s", out)
	}

	if err := os.Rename(src, src+".away"); err != nil {
		t.Fatal(err)
	}
	a.cli(6, "verify", "dataset", "--wait")
	out := a.cli(2, "health")
	if !strings.HasPrefix(out, "HEALTH_ERR ") || !strings.Contains(out, "TORRENT_UNAVAILABLE") || !strings.Contains(out, "dataset") {
		t.Fatalf("health after the data went away:\n%s", out)
	}
	code, body := a.get("/healthz/detail")
	var h healthJSON
	if code != http.StatusOK || json.Unmarshal([]byte(body), &h) != nil || h.Status != "ERR" {
		t.Fatalf("/healthz/detail: %d %s", code, body)
	}
	if _, page := a.get("/"); !strings.Contains(page, `id="badge">HEALTH_ERR<`) {
		t.Error("status page badge is not HEALTH_ERR")
	}
	if !strings.Contains(a.scrape(), `archivd_health_check{code="TORRENT_UNAVAILABLE",node="h"} 2`) {
		t.Error("/metrics lacks TORRENT_UNAVAILABLE at 2")
	}
	if code, _ := a.get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d with data health ERR", code)
	}

	if err := os.Rename(src+".away", src); err != nil {
		t.Fatal(err)
	}
	cmd := commandOf(t, h, "TORRENT_UNAVAILABLE")
	if b, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, b)
	}
	testutil.Eventually(t, time.Minute, "HEALTH_OK after the printed command", func() bool {
		_, _, code := a.run("health")
		return code == 0
	})

	// A manual scrub at 4 MiB/s of ~24 MiB: pause, resume, cancel.
	a.cli(0, "verify", "dataset")
	type status struct {
		Runs []struct {
			ID          int64      `json:"id"`
			BytesHashed int64      `json:"bytes_hashed"`
			PausedAt    *time.Time `json:"paused_at"`
			State       string     `json:"state"`
		} `json:"runs"`
	}
	var st status
	testutil.Eventually(t, time.Minute, "scrub hashing", func() bool {
		a.cliJSON(&st, "verify", "status")
		return len(st.Runs) == 1 && st.Runs[0].BytesHashed > 0
	})
	a.cli(0, "verify", "pause")
	// The daemon's word that its scrub stopped; then bytes hashed stay put
	// while /metrics is scraped and the CLI asks again.
	testutil.Eventually(t, 30*time.Second, "the daemon logging the pause", func() bool {
		return strings.Contains(a.log.String(), `"message":"verify run paused by the operator"`)
	})
	a.cliJSON(&st, "verify", "status")
	before := st.Runs[0].BytesHashed
	if !strings.Contains(a.scrape(), "archivd_verify_run_paused 1") {
		t.Error("/metrics: archivd_verify_run_paused is not 1")
	}
	a.cliJSON(&st, "verify", "status")
	if st.Runs[0].PausedAt == nil || st.Runs[0].BytesHashed != before {
		t.Fatalf("paused run: %+v, hashed %d before", st.Runs[0], before)
	}
	a.cli(0, "verify", "resume")
	testutil.Eventually(t, 30*time.Second, "scrub hashing again", func() bool {
		a.cliJSON(&st, "verify", "status")
		return len(st.Runs) == 1 && st.Runs[0].BytesHashed > before
	})
	a.cli(0, "verify", "cancel")
	testutil.Eventually(t, 10*time.Second, "no run active", func() bool {
		a.cliJSON(&st, "verify", "status")
		return len(st.Runs) == 0
	})
	if !strings.Contains(a.cli(0, "report", "--format", "json"), "cancelled by the operator") {
		t.Error("report of the cancelled run does not say it was cancelled by the operator")
	}
	a.stop()
}
