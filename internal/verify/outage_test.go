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

// TestCatalogErrorWhenAWindowOpensIsRetried: the catalog refuses to queue
// the window's run (a trigger raises, as an unreachable database fails
// the write). The service keeps running and retries; once the catalog
// accepts the write the run is queued. It used to return the error,
// which ended the whole daemon.
func TestCatalogErrorWhenAWindowOpensIsRetried(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	pgtest.Exec(t, db, `CREATE SEQUENCE refused;
		CREATE FUNCTION refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM nextval('refused'); RAISE EXCEPTION 'test: catalog refuses the write'; END $$;
		CREATE TRIGGER refuse_run BEFORE INSERT ON verify_runs FOR EACH ROW EXECUTE FUNCTION refuse_run()`)
	start := time.Date(2026, 11, 24, 0, 59, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	cfg := testConfig(t)
	cfg.Schedules, cfg.Timezone, cfg.MaxRun = []string{"0 1 * * *"}, "UTC", time.Hour
	cfg.Clock, cfg.Poll = clk, 5*time.Millisecond
	svc, err := NewService(cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- svc.Run(ctx) }()
	testutil.Eventually(t, 30*time.Second, "scheduler and repair loop waiting on the clock", func() bool { return clk.Waiters() >= 2 })
	clk.Set(start.Add(90 * time.Second)) // the window opens
	testutil.Eventually(t, 30*time.Second, "the refused write retried", func() bool {
		n := pgtest.Int(t, db, "SELECT last_value FROM refused")
		select {
		case err := <-errc:
			t.Fatalf("the service stopped on a catalog error: %v", err)
		default:
		}
		return n >= 2
	})
	pgtest.Exec(t, db, "DROP TRIGGER refuse_run ON verify_runs")
	testutil.Eventually(t, 30*time.Second, "the window's run queued once the catalog accepts it", func() bool {
		r := lastRun(t, db)
		return r.ID != 0 && r.Kind == catalog.RunScheduled
	})
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
