package verify

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// onceRepairer tells a piece's source once, then "", as the seeder does.
type onceRepairer struct {
	*recordingRepairer
	mu    sync.Mutex
	told  map[int]bool
	asked chan struct{}
}

func (r *onceRepairer) RepairSource(_ int64, piece int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		select {
		case r.asked <- struct{}{}:
		default:
		}
	}()
	if r.told[piece] {
		return ""
	}
	r.told[piece] = true
	return "peer 127.0.0.9:6881 (test)"
}

// TestRepairSourceSurvivesAFailedCatalogWrite: the catalog refuses to
// record the repaired finding once (a trigger raises, as a lost
// connection would fail the write) after the seeder has told the source;
// the next attempt still records the source, not "unknown".
func TestRepairSourceSurvivesAFailedCatalogWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	pgtest.Exec(t, db, `CREATE SEQUENCE refused;
		CREATE FUNCTION refuse_repaired() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.state = 'repaired' THEN PERFORM nextval('refused'); RAISE EXCEPTION 'test: catalog refuses the write'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_repaired BEFORE UPDATE ON findings FOR EACH ROW EXECUTE FUNCTION refuse_repaired()`)
	fx := addTorrent(t, db, t.TempDir(), "flaky", 16<<10, 100_000)
	pristine, err := os.ReadFile(fx.path(0))
	if err != nil {
		t.Fatal(err)
	}
	fx.flip(t, 50_000) // piece 3
	rep := &onceRepairer{told: map[int]bool{}, asked: make(chan struct{}, 1), recordingRepairer: &recordingRepairer{
		calls: make(chan markBad, 4), fix: func(int64, []int) error { return os.WriteFile(fx.path(0), pristine, 0o644) }}}
	cfg := testConfig(t)
	cfg.Repairer, cfg.Poll, cfg.RepairPoll = rep, 10*time.Millisecond, 10*time.Millisecond
	startService(t, cfg, db)
	runID, err := RequestRun(ctx, db, "manual", Scope{})
	if err != nil {
		t.Fatal(err)
	}
	<-rep.calls
	select {
	case <-rep.asked: // told, and the write of the repair refused
	case <-time.After(time.Minute):
		t.Fatal("the repair source was never asked")
	}
	// A few more refused attempts (a sequence is not rolled back).
	testutil.Eventually(t, 30*time.Second, "three refused writes of the repair", func() bool {
		return pgtest.Int(t, db, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM refused`) >= 3
	})
	if fs := findingsOf(t, db, runID, fx.T.ID); len(fs) != 1 || fs[0].State == "repaired" {
		t.Fatalf("finding recorded despite the trigger: %+v", fs)
	}
	pgtest.Exec(t, db, `DROP TRIGGER refuse_repaired ON findings`)
	testutil.Eventually(t, 30*time.Second, "repaired finding", func() bool {
		fs := findingsOf(t, db, runID, fx.T.ID)
		return len(fs) == 1 && fs[0].State == "repaired"
	})
	if f := findingsOf(t, db, runID, fx.T.ID)[0]; f.RepairSource != "peer 127.0.0.9:6881 (test)" {
		t.Fatalf("repair source %q after a failed write, want the peer told before it", f.RepairSource)
	}
}
