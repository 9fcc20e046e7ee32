package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/verify"
)

// startSlowService runs the daemon's verify service hashing at rate
// bytes/s, one piece per range, with a quick control poll.
func (h *healthEnv) startSlowService(t *testing.T, rate int64) *serviceLog {
	t.Helper()
	return h.runServiceWith(t, func(vc *verify.Config) {
		vc.ControlPoll, vc.Rate, vc.RangeBytes = 100*time.Millisecond, rate, 1
	})
}

// serviceLog is the verify service's log, which the test reads for the
// service's own word that it honoured a pause or a cancel.
type serviceLog struct{ lockedBuffer }

// wait waits until the service has logged msg n times in all.
func (l *serviceLog) wait(t *testing.T, msg string, n int) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, fmt.Sprintf("the verify service logging %q %d times", msg, n), func() bool {
		return strings.Count(l.String(), `"message":"`+msg+`"`) >= n
	})
}

// waitRun polls run id until ok holds for it (10s at most).
func (h *healthEnv) waitRun(t *testing.T, id int64, what string, ok func(catalog.VerifyRun) bool) catalog.VerifyRun {
	t.Helper()
	var r catalog.VerifyRun
	testutil.Eventually(t, 10*time.Second, fmt.Sprintf("run %d %s", id, what), func() bool {
		var err error
		if r, err = h.db.VerifyRunByID(ctxT(t), id); err != nil {
			t.Fatal(err)
		}
		return ok(r)
	})
	return r
}

// TestVerifyPauseResumeCancelAreHonouredByTheDaemon: the service stops
// hashing a run the operator paused (and says so), takes it up again on
// resume, and stops for good on cancel.
func TestVerifyPauseResumeCancelAreHonouredByTheDaemon(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	h.addTree(t) // 110,000 bytes, 7 pieces of 16 KiB
	log := h.startSlowService(t, 16<<10)
	if code, out := h.cli(t, "verify"); code != 0 {
		t.Fatal(out)
	}
	runs, err := h.db.ActiveVerifyRuns(ctxT(t))
	if err != nil || len(runs) != 1 {
		t.Fatalf("active runs: %v %d", err, len(runs))
	}
	id := runs[0].ID
	h.waitRun(t, id, "hashing", func(r catalog.VerifyRun) bool { return r.BytesHashed > 0 })

	if code, out := h.cli(t, "verify", "pause"); code != 0 || !strings.Contains(out, "paused") {
		t.Fatalf("pause: %d %s", code, out)
	}
	// The scrub stops (the service says so): bytes hashed no longer move
	// while the worker keeps polling (every 50 ms) and the CLI is used.
	log.wait(t, "verify run paused by the operator", 1)
	before := h.waitRun(t, id, "read", func(catalog.VerifyRun) bool { return true }).BytesHashed
	code, out := h.cli(t, "verify", "status")
	if code != 0 || !strings.Contains(out, "paused") || !strings.Contains(out, "next scrub window: ") {
		t.Fatalf("status while paused: %d %s", code, out)
	}
	if code, out := h.cli(t, "verify", "pause"); code != exitConflict || !strings.Contains(out, "it is paused") {
		t.Fatalf("second pause: %d %s", code, out)
	}
	r := h.waitRun(t, id, "still paused", func(r catalog.VerifyRun) bool { return r.PausedAt != nil })
	if r.BytesHashed != before || r.State != catalog.RunRunning {
		t.Fatalf("paused run moved: %d -> %d (%s)", before, r.BytesHashed, r.State)
	}

	if code, out := h.cli(t, "verify", "resume"); code != 0 {
		t.Fatalf("resume: %d %s", code, out)
	}
	h.waitRun(t, id, "hashing again", func(r catalog.VerifyRun) bool { return r.BytesHashed > before })

	if code, out := h.cli(t, "verify", "cancel"); code != 0 || !strings.Contains(out, "cancelled") {
		t.Fatalf("cancel: %d %s", code, out)
	}
	log.wait(t, "verify run cancelled by the operator", 1)
	r = h.waitRun(t, id, "cancelled", func(r catalog.VerifyRun) bool { return r.State == catalog.RunCancelled })
	if r.Error != catalog.OperatorCancelled || r.BytesHashed >= 110000 {
		t.Fatalf("cancelled run: %+v", r)
	}
	code, out = h.cli(t, "verify", "status", "--json")
	var st verifyStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.Runs) != 0 || st.NextWindow.Before(time.Now()) {
		t.Fatalf("status after cancel: %d %s", code, out)
	}
	if code, out := h.cli(t, "verify", "cancel"); code != exitNotFound {
		t.Fatalf("cancel with nothing running: %d %s", code, out)
	}
	if after := h.waitRun(t, id, "read", func(catalog.VerifyRun) bool { return true }); after.BytesHashed != r.BytesHashed {
		t.Fatalf("cancelled run kept hashing: %d -> %d", r.BytesHashed, after.BytesHashed)
	}
}
