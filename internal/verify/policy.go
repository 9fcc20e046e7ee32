package verify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// policy is what a collection may override of the verify config (its
// verify_policy in the catalog, set from the config's collections).
type policy struct {
	Interval         time.Duration
	MassFailureRatio float64
}

// policies returns the effective policy of every collection.
func (e *engine) policies(ctx context.Context) (map[int64]policy, error) {
	cs, err := e.db.Collections(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]policy, len(cs))
	for _, c := range cs {
		out[c.ID] = e.policyOf(c.VerifyPolicy)
	}
	return out, nil
}

// policyOf applies overrides ({"interval": "168h", "mass_failure_ratio":
// "0.5"}) to the defaults; a value that does not parse is ignored (the
// config's validation refuses it before it reaches the catalog).
func (e *engine) policyOf(raw []byte) policy {
	p := policy{Interval: e.cfg.Interval, MassFailureRatio: e.cfg.MassFailureRatio}
	var o map[string]string
	if json.Unmarshal(raw, &o) != nil {
		return p
	}
	if d, err := time.ParseDuration(o["interval"]); err == nil && d > 0 {
		p.Interval = d
	}
	var r float64
	if err := json.Unmarshal([]byte(o["mass_failure_ratio"]), &r); err == nil && r > 0 && r <= 1 {
		p.MassFailureRatio = r
	}
	return p
}

// planDue plans the due ranges of ts for a scheduled run: each torrent's
// collection interval decides what would be overdue before the next window.
func (e *engine) planDue(ctx context.Context, runID int64, ts []catalog.Torrent) (int, int64, error) {
	pols, err := e.policies(ctx)
	if err != nil {
		return 0, 0, err
	}
	byInterval := map[time.Duration][]int64{}
	for _, t := range ts {
		iv := e.cfg.Interval
		if p, ok := pols[t.CollectionID]; ok {
			iv = p.Interval
		}
		byInterval[iv] = append(byInterval[iv], t.ID)
	}
	next := e.win.next(e.clk.Now())
	var jobs int
	var bytes int64
	for iv, ids := range byInterval {
		due := next.Add(-iv)
		j, b, err := e.db.PlanVerifyJobs(ctx, runID, ids, &due)
		if err != nil {
			return 0, 0, err
		}
		jobs, bytes = jobs+j, bytes+b
	}
	return jobs, bytes, nil
}

// CollectionInterval is the verification interval of a collection whose
// verify_policy is raw, when the config's is def (the health checks use
// it to judge what is overdue the way the planner does).
func CollectionInterval(raw []byte, def time.Duration) time.Duration {
	e := engine{cfg: Config{Interval: def}}
	return e.policyOf(raw).Interval
}
