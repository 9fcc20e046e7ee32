package main

import (
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
)

// A scheduled run skipped because its window ended before it started
// (internal/verify's scheduler records it so) shows in `verify status` and
// raises SCRUB_BEHIND_SCHEDULE until a run over everything is done.
func TestSkippedScheduledRunShownByStatusAndHealth(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	h.addTree(t)
	ctx := ctxT(t)
	node := (&config.Config{}).ResolvedNodeID()
	id, err := h.db.CreateVerifyRun(ctx, catalog.RunScheduled, []byte(`{}`), node, time.Now())
	mustOK(t, err)
	ids, err := h.db.SkipQueuedScheduledRuns(ctx, node, "this node was busy with manual run 7", time.Now())
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("skip: %v %v, want [%d]", ids, err, id)
	}
	c := mustRaise(t, h.health(t), health.ScrubBehindSchedule, health.Warn)
	if !strings.Contains(c.Summary, "skipped") {
		t.Fatalf("SCRUB_BEHIND_SCHEDULE summary %q does not say the run was skipped", c.Summary)
	}
	code, out := h.cli(t, "verify", "status")
	if code != 0 || !strings.Contains(out, "skipped") || !strings.Contains(out, "busy with manual run 7") {
		t.Fatalf("verify status: exit %d: %s", code, out)
	}
	h.runService(t)
	h.runSuggested(t, c)
	h.waitRunsDone(t)
	mustClear(t, h.health(t), health.ScrubBehindSchedule)
	if code, out := h.cli(t, "verify", "status"); code != 0 || strings.Contains(out, "skipped") {
		t.Fatalf("verify status after a full run: exit %d: %s", code, out)
	}
}
