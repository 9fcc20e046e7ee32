package verify

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/verify/clock"
	"github.com/rs/zerolog"
)

// lockedLog is a log the service writes and the test reads.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// busyService runs a service whose node is busy with a manual run that
// cannot finish in the test's clock time (512 KiB at 100 B/s), so that no
// scheduled run is ever started: windows "@every 30s" lasting maxRun.
func busyService(t *testing.T, maxRun time.Duration) (*catalog.DB, *clock.Fake, *lockedLog, time.Time, int64) {
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	addTorrent(t, db, t.TempDir(), "slow", 16<<10, 8*64<<10)
	base := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC) // a multiple of 30 s
	clk := clock.NewFake(base.Add(15 * time.Second))     // between windows
	log := &lockedLog{}
	cfg := testConfig(t)
	cfg.Logger = zerolog.New(log)
	cfg.Schedules, cfg.Timezone, cfg.MaxRun = []string{"@every 30s"}, "UTC", maxRun
	cfg.Rate, cfg.RangeBytes, cfg.BlockSize = 100, 64<<10, 16<<10
	cfg.Clock, cfg.Poll = clk, 5*time.Millisecond
	svc, err := NewService(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	manual, err := db.CreateVerifyRun(ctx, catalog.RunManual, []byte(`{}`), cfg.NodeID, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "the manual run started", func() bool {
		r, err := db.VerifyRunByID(ctx, manual)
		return err == nil && r.State == catalog.RunRunning
	})
	return db, clk, log, base, manual
}

func scheduledRuns(t *testing.T, db *catalog.DB) (queued, all []catalog.VerifyRun) {
	t.Helper()
	rs, err := db.VerifyRuns(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind != catalog.RunScheduled {
			continue
		}
		all = append(all, r)
		if r.State == catalog.RunQueued {
			queued = append(queued, r)
		}
	}
	return queued, all
}

// A scheduled run not started by its window's close is skipped: cancelled
// with catalog.RunSkippedByWindow and why (the node was busy), so a busy
// node does not pile up one queued run per window. Before, each window
// queued another run and none ever ended.
func TestScheduledRunNotStartedInItsWindowIsSkipped(t *testing.T) {
	t.Parallel()
	db, clk, _, base, manual := busyService(t, 10*time.Second)
	ctx := context.Background()
	for k := 1; k <= 3; k++ {
		open := base.Add(time.Duration(k) * 30 * time.Second)
		clk.Set(open)
		var run catalog.VerifyRun
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("window %d's run queued", k), func() bool {
			q, _ := scheduledRuns(t, db)
			if len(q) > 1 {
				t.Fatalf("window %d: %d scheduled runs queued: %+v", k, len(q), q)
			}
			if len(q) == 1 {
				run = q[0]
			}
			return len(q) == 1
		})
		clk.Set(open.Add(10 * time.Second)) // the window closes
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("window %d's run skipped", k), func() bool {
			r, err := db.VerifyRunByID(ctx, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			return r.State == catalog.RunCancelled
		})
		r, err := db.VerifyRunByID(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s: this node was busy with manual run %d", catalog.RunSkippedByWindow, manual)
		if r.Error != want || r.StartedAt != nil || r.FinishedAt == nil || r.FinishedAt.Before(open.Add(10*time.Second)) {
			t.Fatalf("window %d's run: %+v, want cancelled with %q, never started", k, r, want)
		}
	}
	q, all := scheduledRuns(t, db)
	if len(q) != 0 || len(all) != 3 {
		t.Fatalf("after 3 windows: %d queued, %d scheduled runs in all, want 0 and 3", len(q), len(all))
	}
	if m, err := db.VerifyRunByID(ctx, manual); err != nil || m.State != catalog.RunRunning {
		t.Fatalf("the manual run: %+v, %v; want still running", m, err)
	}
}

// Windows that never close (max_run 0) coalesce: a window opening while
// the node's scheduled run is still queued adds no other.
func TestScheduledRunStillQueuedIsTheNextWindowsRun(t *testing.T) {
	t.Parallel()
	db, clk, log, base, _ := busyService(t, 0)
	for k := 1; k <= 3; k++ {
		clk.Set(base.Add(time.Duration(k) * 30 * time.Second))
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("window %d opened", k), func() bool {
			return log.count("verify window opened") == k
		})
		q, all := scheduledRuns(t, db)
		if len(q) != 1 || len(all) != 1 {
			t.Fatalf("after window %d: %d scheduled runs queued, %d in all, want 1 and 1", k, len(q), len(all))
		}
	}
	if n := log.count("its scheduled run is the one still queued"); n != 2 {
		t.Fatalf("%d windows took the queued run as theirs, want 2", n)
	}
}
