package verify

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/verify/clock"
)

func TestWindowsFollowTimezoneAndMaxRun(t *testing.T) {
	t.Parallel()
	w, err := newWindows([]string{"0 1 * * *", "30 13 * * 6"}, "Europe/Berlin", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// 01:00 Berlin in November (CET, UTC+1) is 00:00 UTC.
	if got := w.next(utc("2026-11-23T12:00:00Z")); !got.Equal(utc("2026-11-24T00:00:00Z")) {
		t.Fatalf("next window %s", got)
	}
	for _, c := range []struct {
		at   string
		open bool
		end  string
	}{
		{"2026-11-23T23:59:59Z", false, ""},
		{"2026-11-24T00:00:00Z", true, "2026-11-24T02:00:00Z"},
		{"2026-11-24T01:59:59Z", true, "2026-11-24T02:00:00Z"},
		{"2026-11-24T02:00:00Z", false, ""},
		{"2026-11-28T12:45:00Z", true, "2026-11-28T14:30:00Z"}, // Saturday 13:30 Berlin
		{"2026-07-01T23:30:00Z", true, "2026-07-02T01:00:00Z"}, // summer: 01:00 CEST = 23:00 UTC
	} {
		end, open := w.current(utc(c.at))
		if open != c.open || (open && !end.Equal(utc(c.end))) {
			t.Errorf("at %s: open %v end %s, want %v %s", c.at, open, end, c.open, c.end)
		}
	}
	if _, err := newWindows([]string{"0 25 * * *"}, "UTC", time.Hour); err == nil {
		t.Error("bad cron spec accepted")
	}
	if _, err := newWindows([]string{"0 1 * * *"}, "Mars/Olympus", time.Hour); err == nil {
		t.Error("bad timezone accepted")
	}
}

// "@every D" opens windows on a grid of D: one is open for max_run after
// each opening, whatever time the windows are asked about (cron's own
// @every counted D from the time asked, so with max_run < D no window was
// ever open and scheduled runs were never claimed).
func TestEveryScheduleOpensWindowsOnAGrid(t *testing.T) {
	t.Parallel()
	w, err := newWindows([]string{"@every 8s"}, "UTC", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) // a multiple of 8 s
	if got := w.next(base.Add(time.Second)); !got.Equal(base.Add(8 * time.Second)) {
		t.Fatalf("next after base+1s: %s", got)
	}
	for _, c := range []struct {
		at   time.Duration
		open bool
	}{{0, true}, {2500 * time.Millisecond, true}, {3 * time.Second, false}, {7 * time.Second, false}, {8 * time.Second, true}, {10 * time.Second, true}} {
		end, open := w.current(base.Add(c.at))
		if open != c.open {
			t.Errorf("at +%v: open %v, want %v", c.at, open, c.open)
		}
		if open && !end.Equal(base.Add(c.at).Truncate(8*time.Second).Add(3*time.Second)) {
			t.Errorf("at +%v: window ends %s", c.at, end)
		}
	}
	// Longer than max_run: "@every 24h" with the default max_run of 6h.
	w, err = newWindows([]string{"@every 24h"}, "UTC", 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).Truncate(24 * time.Hour)
	if _, open := w.current(day.Add(time.Hour)); !open {
		t.Error("@every 24h, max_run 6h: no window open an hour after an opening")
	}
	if _, open := w.current(day.Add(7 * time.Hour)); open {
		t.Error("@every 24h, max_run 6h: a window open 7 h after its opening")
	}
}

func lastRun(t *testing.T, db *catalog.DB) catalog.VerifyRun {
	t.Helper()
	r, err := db.VerifyRunByID(context.Background(), 0)
	if err != nil {
		return catalog.VerifyRun{}
	}
	return r
}

// drive advances the fake clock a step at each check of testutil.Eventually
// (letting the service work between them in real time) until cond holds;
// the fake time stops at until.
func drive(t *testing.T, clk *clock.Fake, step time.Duration, until time.Time, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 90*time.Second, what, func() bool {
		if cond() {
			return true
		}
		if clk.Now().Before(until) {
			clk.Advance(step)
		}
		return false
	})
}

func TestScheduledRunStopsAtWindowEndAndResumesNextWindow(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fx := addTorrent(t, db, t.TempDir(), "slow", 16<<10, 8*64<<10) // 8 ranges of 64 KiB
	start := time.Date(2026, 11, 24, 0, 59, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	cfg := testConfig(t)
	cfg.Schedules, cfg.Timezone, cfg.MaxRun = []string{"0 1 * * *"}, "UTC", time.Hour
	// 512 KiB at 100 B/s needs 87 min: the 60 min window ends first.
	cfg.Rate, cfg.RangeBytes, cfg.BlockSize = 100, 64<<10, 16<<10
	cfg.Clock, cfg.Poll = clk, 5*time.Millisecond
	svc, err := NewService(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- svc.Run(ctx) }()
	if r := lastRun(t, db); r.ID != 0 {
		t.Fatalf("a run exists before the window: %+v", r)
	}
	first := func() bool { r := lastRun(t, db); return r.ID == 1 && r.State == "cancelled" }
	// Small steps: the service works in real time between them, and a
	// loaded machine must not let the window pass before it gets going.
	drive(t, clk, 5*time.Second, start.Add(3*time.Hour), "the first run cut by its window", first)
	r1 := lastRun(t, db)
	open, end := start.Add(time.Minute), start.Add(61*time.Minute)
	if r1.Kind != "scheduled" || r1.StartedAt.Before(open) || r1.StartedAt.After(open.Add(10*time.Minute)) ||
		r1.FinishedAt.Before(end) || r1.FinishedAt.After(end.Add(time.Minute)) {
		// The run stops when the service sees the window's end: the fake
		// clock may have moved a few drive steps further on a loaded machine.
		t.Fatalf("first run %+v", r1)
	}
	// At most 60 of 87 minutes' worth: some ranges done, not all.
	if r1.BytesHashed < 64<<10 || r1.BytesHashed > 6*64<<10 {
		t.Fatalf("first window hashed %d bytes", r1.BytesHashed)
	}
	// Nothing runs between windows: each time the fake clock jumps, the
	// scheduler and the repair loop (its only waiters between runs) have
	// looked at the new time once they wait on the clock again.
	for _, at := range []time.Duration{12 * time.Hour, 24 * time.Hour} {
		clk.Set(start.Add(at))
		testutil.Eventually(t, 30*time.Second, "scheduler and repair loop waiting on the clock again", func() bool { return clk.Waiters() >= 2 })
	}
	if r := lastRun(t, db); r.ID != 1 {
		t.Fatalf("run between windows: %+v", r)
	}
	second := func() bool { r := lastRun(t, db); return r.ID == 2 && r.State == "done" }
	drive(t, clk, 5*time.Second, start.Add(27*time.Hour), "the second run done", second)
	r2 := lastRun(t, db)
	if r2.BytesHashed != fx.T.TotalLength-r1.BytesHashed || r2.BytesPlanned != r2.BytesHashed {
		t.Fatalf("second window hashed %d (planned %d), want the %d left", r2.BytesHashed, r2.BytesPlanned, fx.T.TotalLength-r1.BytesHashed)
	}
	// The limit holds: the bytes took at least their share of clock time.
	// (The upper bound depends on how fast this test steps the clock; the
	// scrub package's test checks the rate within 10% with a clock that
	// moves only when waited on.)
	took := r2.FinishedAt.Sub(*r2.StartedAt).Seconds()
	if want := float64(r2.BytesHashed) / 100; took < want*0.9 {
		t.Fatalf("second run took %.0fs of clock time, want at least %.0fs", took, want)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
