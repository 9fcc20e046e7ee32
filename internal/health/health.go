// Package health evaluates archivd's named health checks, in the manner
// of Ceph's `ceph health detail`: one evaluation over the catalog and the
// data roots, each raised check with a stable code, a severity, the
// objects it concerns and a command that helps. `archivd health`, the
// status page, /healthz/detail and /metrics all show the same evaluation.
// Data health is reported, never acted on: it never stops the daemon.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// Severity orders checks: OK < WARN < ERR. Its value is the number
// `archivd health` exits with and the metrics report.
type Severity int

const (
	OK Severity = iota
	Warn
	Err
)

func (s Severity) String() string {
	switch s {
	case Warn:
		return "WARN"
	case Err:
		return "ERR"
	}
	return "OK"
}

// MarshalJSON writes the name ("OK", "WARN", "ERR").
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var n string
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	for _, v := range []Severity{OK, Warn, Err} {
		if v.String() == n {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("health: unknown severity %q", n)
}

// The stable check codes. Alert rules and scripts match on them: never
// rename one.
const (
	TorrentUnavailable  = "TORRENT_UNAVAILABLE"
	TorrentDegraded     = "TORRENT_DEGRADED"
	DamageOpen          = "DAMAGE_OPEN"
	RepairHeld          = "REPAIR_HELD"
	PiecesNotVerified   = "PIECES_NOT_VERIFIED_IN_INTERVAL"
	DiskFull            = "DISK_FULL"
	DataRootLowSpace    = "DATA_ROOT_LOW_SPACE"
	CatalogDegraded     = "CATALOG_DEGRADED"
	ScrubBehindSchedule = "SCRUB_BEHIND_SCHEDULE"
	FleetFlagsSet       = "FLEETFLAGS_SET"
	NodeDown            = "NODE_DOWN"
	FleetOutHeld        = "FLEET_OUT_HELD"
	RecoveryStalled     = "RECOVERY_STALLED"
	codesCount          = 13
)

// Codes lists every check code, in the order they are evaluated.
var Codes = [codesCount]string{CatalogDegraded, TorrentUnavailable, TorrentDegraded, RepairHeld, DamageOpen, DiskFull,
	DataRootLowSpace, PiecesNotVerified, ScrubBehindSchedule, FleetFlagsSet, NodeDown, FleetOutHeld, RecoveryStalled}

// Check is one raised check.
type Check struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Summary is one line: what is wrong and how much.
	Summary string `json:"summary"`
	// Detail has one line per affected object (at most MaxDetail).
	Detail []string `json:"detail,omitempty"`
	// Torrents are the affected torrents (at most MaxDetail); Count is
	// how many there are in all.
	Torrents []catalog.TorrentRef `json:"torrents,omitempty"`
	Count    int                  `json:"count"`
	// Command is what to do: an archivd (or shell) command line that
	// works as printed; Hint says when to run it.
	Command string `json:"command"`
	Hint    string `json:"hint,omitempty"`
}

// Report is one evaluation.
type Report struct {
	Status Severity  `json:"status"`
	At     time.Time `json:"evaluated_at"`
	Checks []Check   `json:"checks"`
}

// Raised returns the check with code, if raised.
func (r Report) Raised(code string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Code == code {
			return c, true
		}
	}
	return Check{}, false
}

// Level returns the severity of code in r (OK when not raised).
func (r Report) Level(code string) Severity {
	c, _ := r.Raised(code)
	return c.Severity
}

// add raises c; a code already raised keeps its first check.
func (r *Report) add(c Check) {
	if _, dup := r.Raised(c.Code); dup {
		return
	}
	r.Checks = append(r.Checks, c)
	r.Status = max(r.Status, c.Severity)
}

// MaxDetail caps the objects named per check; the count says how many
// there are in all.
const MaxDetail = 20

// Evaluate runs every check. A catalog that does not answer raises
// CATALOG_DEGRADED (ERR) and skips the checks that read it; the disk
// checks still run on the configured data_dir.
func (e *Evaluator) Evaluate(ctx context.Context) Report {
	r := Report{At: e.now()}
	catalogOK := e.checkCatalog(ctx, &r)
	var roots []string
	if catalogOK {
		for _, step := range []func(context.Context, *Report) error{
			e.checkUnavailable, e.checkDegraded, e.checkHeld, e.checkDamage, e.checkOverdue, e.checkScrubBehind,
			e.checkFleetFlags, e.checkNodes, e.checkStalled,
		} {
			if err := step(ctx, &r); err != nil {
				r.add(e.catalogErr(err))
				break
			}
		}
		var err error
		if roots, err = e.db.DataRoots(ctx); err != nil {
			r.add(e.catalogErr(err))
		}
	}
	e.checkDisks(append(roots, e.config().DataDir), &r)
	sortChecks(r.Checks)
	return r
}

// sortChecks orders raised checks as Codes does (ERR and WARN mixed, in
// a fixed order operators learn).
func sortChecks(cs []Check) {
	pos := map[string]int{}
	for i, c := range Codes {
		pos[c] = i
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && pos[cs[j].Code] < pos[cs[j-1].Code]; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
