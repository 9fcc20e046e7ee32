package verify

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/verify/clock"
	"github.com/rs/zerolog"
)

// signalWriter closes seen the first time a log line contains want.
type signalWriter struct {
	mu   sync.Mutex
	want string
	seen chan struct{}
	buf  bytes.Buffer
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) && w.seen != nil {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

// TestNoScrubHoldsScheduledRuns: while the fleet flag noscrub is set, a
// window that opens queues no scheduled run and a scheduled run already
// queued is not started, while a manual run still runs; once the flag is
// unset, the held scheduled run starts and finishes in the same window.
func TestNoScrubHoldsScheduledRuns(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addTorrent(t, db, t.TempDir(), "data", 16<<10, 4*64<<10)
	if _, err := db.SetFleetFlag(ctx, catalog.FlagNoScrub, "test", "maintenance window"); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 24, 0, 59, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	cfg := testConfig(t)
	refused := &signalWriter{want: "fleet flag noscrub is set", seen: make(chan struct{})}
	seen := refused.seen
	cfg.Logger = zerolog.New(zerolog.MultiLevelWriter(refused, zerolog.NewTestWriter(t)))
	cfg.Schedules, cfg.Timezone, cfg.MaxRun = []string{"0 1 * * *"}, "UTC", time.Hour
	cfg.RangeBytes, cfg.BlockSize = 64<<10, 16<<10
	cfg.Clock, cfg.Poll = clk, 5*time.Millisecond
	svc, err := NewService(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- svc.Run(ctx) }()
	// The window opens: the scheduler sees the flag and queues nothing.
	drive(t, clk, 5*time.Second, start.Add(2*time.Minute), "the scheduler refusing the window", func() bool {
		select {
		case <-seen:
			return true
		default:
			return false
		}
	})
	if r := lastRun(t, db); r.ID != 0 {
		t.Fatalf("a run was queued while noscrub is set: %+v", r)
	}
	// A scheduled run queued before the flag was set, then a manual one:
	// the manual run runs, the scheduled one stays queued.
	held, err := db.CreateVerifyRun(ctx, catalog.RunScheduled, []byte(`{}`), "", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	manual, err := db.CreateVerifyRun(ctx, catalog.RunManual, []byte(`{}`), "", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	runState := func(id int64) catalog.RunState {
		r, err := db.VerifyRunByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.State
	}
	drive(t, clk, time.Second, start.Add(30*time.Minute), "the manual run done", func() bool { return runState(manual) == catalog.RunDone })
	if st := runState(held); st != catalog.RunQueued {
		t.Fatalf("scheduled run %d is %s while noscrub is set, want queued", held, st)
	}
	if _, err := db.UnsetFleetFlag(ctx, catalog.FlagNoScrub); err != nil {
		t.Fatal(err)
	}
	drive(t, clk, time.Second, start.Add(50*time.Minute), "the held scheduled run done", func() bool { return runState(held) == catalog.RunDone })
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
