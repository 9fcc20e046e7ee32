package health

import (
	"context"
	"fmt"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
)

// checkFleetFlags raises FLEETFLAGS_SET (WARN) while an operator's fleet
// flag holds back what the fleet does by itself (Ceph's OSDMAP_FLAGS).
func (e *Evaluator) checkFleetFlags(ctx context.Context, r *Report) error {
	fs, err := e.db.SetFleetFlags(ctx)
	if err != nil || len(fs) == 0 {
		return err
	}
	names := make([]string, len(fs))
	lines := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f.Flag)
		lines[i] = fmt.Sprintf("%s set %s by %s%s: %s", f.Flag, stamp(&f.SetAt), f.SetBy, reason(f.Reason), flagEffect[f.Flag])
	}
	r.add(Check{Code: FleetFlagsSet, Severity: Warn, Count: len(fs), Detail: lines,
		Summary: fmt.Sprintf("%s set: %s", plural(len(fs), "fleet flag", "fleet flags"), strings.Join(names, ", ")),
		Command: e.cmd("fleet", "unset", names[0]),
		Hint:    "once the work they were set for is done, unset each flag ('archivd fleet status' lists them)"})
	return nil
}

var flagEffect = map[catalog.FleetFlag]string{
	catalog.FlagNoOut:       "down nodes are not marked out",
	catalog.FlagNoRebalance: "no data moves for balance",
	catalog.FlagNoRecover:   "lost replicas are not recreated",
	catalog.FlagNoScrub:     "scheduled scrubs do not start",
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}
