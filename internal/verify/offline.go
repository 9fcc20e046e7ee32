package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// RunOffline verifies scope in this process (`archivd verify --offline`,
// daemon stopped). An unfinished offline run of the same scope, left by a
// crash, is resumed once its lease has expired: the ranges it finished are
// not read again. No windows apply; repair is only asked for when
// cfg.Repairer is set. progress sees bytes hashed and planned.
func RunOffline(ctx context.Context, db *catalog.DB, cfg Config, scope Scope, progress func(done, total int64)) (int64, error) {
	e, err := newEngine(cfg, db)
	if err != nil {
		return 0, err
	}
	want, err := json.Marshal(scope)
	if err != nil {
		return 0, fmt.Errorf("verify: encode scope: %w", err)
	}
	run, fresh, err := e.offlineRun(ctx, want)
	if err != nil {
		return 0, err
	}
	if fresh {
		if err := e.plan(ctx, run); err != nil {
			_ = db.FinishVerifyRun(ctx, run.ID, catalog.RunFailed, err.Error(), e.clk.Now())
			return run.ID, fmt.Errorf("verify: plan run %d: %w", run.ID, err)
		}
	} else {
		e.log.Info().Int64("run", run.ID).Msg("verify: resuming interrupted offline run")
	}
	for {
		err = e.execute(ctx, run, time.Time{}, progress)
		if errors.Is(err, errRunPaused) {
			e.log.Info().Int64("run", run.ID).Msg("verify: offline run paused by the operator; waiting for resume or cancel")
			err = e.waitWhilePaused(ctx, run.ID)
			if err == nil {
				continue
			}
		}
		if errors.Is(err, errRunStopped) {
			return run.ID, e.stopped(ctx, run, err)
		}
		if err != nil {
			return run.ID, fmt.Errorf("verify: run %d: %w", run.ID, err)
		}
		return run.ID, nil
	}
}

// offlineRun finds an unfinished offline run of the same scope, or starts one.
func (e *engine) offlineRun(ctx context.Context, scope []byte) (catalog.VerifyRun, bool, error) {
	runs, err := e.db.UnfinishedVerifyRuns(ctx, []catalog.RunKind{catalog.RunOffline}, e.cfg.NodeID)
	if err != nil {
		return catalog.VerifyRun{}, false, err
	}
	for _, r := range runs {
		if sameJSON(r.Scope, scope) {
			return r, false, nil
		}
	}
	if _, err := resolve(ctx, e.db, mustScope(scope), false); err != nil {
		return catalog.VerifyRun{}, false, err
	}
	id, err := e.db.CreateVerifyRun(ctx, catalog.RunOffline, scope, e.cfg.NodeID, e.clk.Now())
	if err != nil {
		return catalog.VerifyRun{}, false, err
	}
	r, ok, err := e.db.ClaimVerifyRun(ctx, []catalog.RunKind{catalog.RunOffline}, e.cfg.NodeID, e.clk.Now())
	if err == nil && (!ok || r.ID != id) {
		err = fmt.Errorf("verify: offline run %d was taken by another process", id)
	}
	return r, true, err
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

func mustScope(b []byte) Scope {
	s, _ := parseScope(b)
	return s
}
