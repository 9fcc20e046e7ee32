package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/testutil"
)

// The lifecycle test's invariants, read from rep's catalog (through the
// catalog package) and its files (hashed by the test).

func (w *lifeWorld) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

func (w *lifeWorld) torrent() catalog.Torrent {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	tor, err := w.db.TorrentByID(ctx, w.id)
	if err != nil {
		w.t.Fatal(err)
	}
	return tor
}

func (w *lifeWorld) pieces() catalog.PieceStates {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	ps, err := w.db.LoadPieces(ctx, w.id, w.l.pieces())
	if err != nil {
		w.t.Fatal(err)
	}
	return ps
}

func (w *lifeWorld) findings() []catalog.VerifyFinding {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	fs, err := w.db.VerifyFindings(ctx, catalog.VerifyFindingFilter{TorrentID: w.id})
	if err != nil {
		w.t.Fatal(err)
	}
	return fs
}

func (w *lifeWorld) seeding() bool {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	es, err := w.db.EngineStates(ctx, w.id)
	if err != nil {
		w.t.Fatal(err)
	}
	return es[w.id].State == catalog.EngineSeeding
}

// openPieces maps each piece of a finding not repaired to that finding.
func openPieces(fs []catalog.VerifyFinding) map[int]catalog.VerifyFinding {
	m := map[int]catalog.VerifyFinding{}
	for _, f := range fs {
		if f.State != catalog.FindingRepaired {
			for _, p := range f.Pieces() {
				m[p] = f
			}
		}
	}
	return m
}

// view is the catalog's word on rep's torrent, read before its files
// are hashed: what the catalog records can only have come from data
// read before the test hashes it.
type view struct {
	tor      catalog.Torrent
	pieces   catalog.PieceStates
	findings []catalog.VerifyFinding
	open     map[int]catalog.VerifyFinding
	bad      map[int]bool
}

func (w *lifeWorld) look() view {
	w.t.Helper()
	v := view{tor: w.torrent(), pieces: w.pieces(), findings: w.findings()}
	v.open = openPieces(v.findings)
	v.bad = w.l.bad(w.t, w.data)
	return v
}

// check asserts the invariants after a step.
func (w *lifeWorld) check() {
	w.t.Helper()
	select {
	case err := <-w.rep.done:
		w.t.Fatalf("rep's archivd serve exited: %v", err)
	default:
	}
	v := w.look()
	for _, p := range sortedKeys(v.bad) {
		if w.dirty[p] {
			continue // damaged by the test since rep last read it
		}
		st := v.pieces.State(p)
		// 1. No piece recorded complete fails its hash on disk (held
		// ones included: a hold makes its pieces unknown).
		if st == catalog.PieceComplete {
			w.t.Fatalf("invariant 1: piece %d is recorded complete and fails its hash on disk (findings %s)", p, findingsText(v.findings, p))
		}
		// 2. Every piece that fails is being repaired (recorded not
		// complete or unknown: the engine fetches or hashes it) or in an
		// open finding. (Given 1, only the finding's state is left to check.)
		if f, ok := v.open[p]; ok && f.State == catalog.FindingRepaired {
			w.t.Fatalf("invariant 2: piece %d fails its hash and its finding %d is repaired", p, f.ID)
		}
	}
	w.checkNoRepetitions(v)
	w.checkDeadlines(v)
}

func findingsText(fs []catalog.VerifyFinding, p int) string {
	var out []string
	for _, f := range fs {
		if slices.Contains(f.Pieces(), p) {
			out = append(out, fmt.Sprintf("#%d %s %s %s source %q", f.ID, f.Range(), f.Kind, f.State, f.RepairSource))
		}
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// checkNoRepetitions: 5. the findings and events tables grow with new
// facts, not with repetitions: no two findings not repaired of one cause
// overlap, and no event repeats the one before it for the torrent.
func (w *lifeWorld) checkNoRepetitions(v view) {
	w.t.Helper()
	for i, f := range v.findings {
		for _, g := range v.findings[i+1:] {
			if f.State != catalog.FindingRepaired && g.State != catalog.FindingRepaired && f.Kind == g.Kind &&
				f.Piece < g.Piece+g.PieceCount && g.Piece < f.Piece+f.PieceCount {
				w.t.Fatalf("invariant 5: findings #%d (%s %s %s) and #%d (%s %s %s) overlap", f.ID, f.Range(), f.Kind, f.State, g.ID, g.Range(), g.Kind, g.State)
			}
		}
	}
	// Verify runs grow with windows worked, not one queued per window:
	// rep's "@every 30s" windows never close (max_run 0s), so a window
	// opening while rep is busy (a long manual run, its catalog away)
	// takes the scheduled run still queued as its own.
	ctx, cancel := w.ctx()
	defer cancel()
	runs, err := w.db.VerifyRuns(ctx, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	queued := 0
	for _, r := range runs {
		if r.Kind == catalog.RunScheduled && r.State == catalog.RunQueued && r.NodeID == "rep" {
			queued++
		}
	}
	if queued > 1 {
		w.t.Fatalf("invariant 5: %d scheduled verify runs of rep queued at once", queued)
	}
	evs := w.events()
	for i := 1; i < len(evs); i++ {
		if evs[i].Kind == evs[i-1].Kind && evs[i].Message == evs[i-1].Message {
			w.t.Fatalf("invariant 5: event %d repeats the one before it:\n%s", i, eventsText(evs))
		}
	}
}

// events lists rep's events of the torrent, oldest first.
func (w *lifeWorld) events() []catalog.Event {
	w.t.Helper()
	ctx, cancel := w.ctx()
	defer cancel()
	evs, err := w.db.TorrentEvents(ctx, w.id, 100_000)
	if err != nil {
		w.t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

func eventsText(evs []catalog.Event) string {
	var b strings.Builder
	for i, e := range evs {
		fmt.Fprintf(&b, "  %d %s %s: %s\n", i, e.At.Format("15:04:05.000"), e.Kind, e.Message)
	}
	return b.String()
}

// repairable: rep can fetch damaged pieces from a live source.
func (w *lifeWorld) repairable(v view) bool {
	return w.srcUp && !w.paused && !w.full && v.tor.State == catalog.TorrentActive && v.tor.Availability == catalog.AvailabilityOK
}

// checkDeadlines: 3. a torrent whose data is present and intact is
// available and seeding within lifeBound; 4. a finding with a live source
// is repaired within lifeBound.
func (w *lifeWorld) checkDeadlines(v view) {
	w.t.Helper()
	now := time.Now()
	if w.repairable(v) {
		for _, f := range v.findings {
			if f.State == catalog.FindingRepaired {
				delete(w.repairableSince, f.ID)
				continue
			}
			since, ok := w.repairableSince[f.ID]
			if !ok {
				w.repairableSince[f.ID] = now
			} else if now.Sub(since) > lifeBound {
				w.t.Fatalf("invariant 4: finding #%d (%s %s %s) has had a live source for %v and is not repaired", f.ID, f.Range(), f.Kind, f.State, now.Sub(since))
			}
		}
	} else {
		clear(w.repairableSince)
	}
	if len(v.bad) > 0 || w.paused {
		w.intactSince = time.Time{}
		return
	}
	if w.intactSince.IsZero() {
		w.intactSince = now
		return
	}
	if now.Sub(w.intactSince) > lifeBound && (v.tor.Availability != catalog.AvailabilityOK || !w.seeding()) {
		w.t.Fatalf("invariant 3: the data has been intact for %v; the torrent is %s (%s) and seeding: %v", now.Sub(w.intactSince), v.tor.Availability, v.tor.AvailabilityReason, w.seeding())
	}
}

// scrub runs `verify --wait` on rep and checks its exit code against the
// test's own hashing: 6 when a piece it judges fails before and after the
// run (repair only makes pieces good), 0 when none failed before or
// after. The run's report names every such piece in a finding not
// repaired; and a scrub that finds what the last one found adds no
// findings rows.
func (w *lifeWorld) scrub() string {
	w.t.Helper()
	before := w.look()
	rowsBefore := len(before.findings)
	code, out := w.verify()
	after := w.l.bad(w.t, w.data)
	var mustFail []int
	for _, p := range sortedKeys(before.bad) {
		_, open := before.open[p]
		if after[p] && (before.pieces.State(p) != catalog.PieceNotComplete || open) {
			mustFail = append(mustFail, p)
		}
	}
	switch {
	case len(mustFail) > 0 && code != 6:
		w.t.Fatalf("invariant 2: verify exit %d while pieces %v it judges failed before and after the run\n%s", code, mustFail, out)
	case len(before.bad) == 0 && len(after) == 0 && code != 0:
		w.t.Fatalf("invariant 2: verify exit %d with every piece good before and after the run\n%s", code, out)
	}
	if len(mustFail) > 0 {
		w.checkReported(out, mustFail)
	}
	if !w.damaged && sameSet(before.bad, w.lastBad) && sameSet(after, before.bad) {
		if rows := len(w.findings()); rows != rowsBefore {
			w.t.Fatalf("invariant 5: a scrub that found what the last one found (pieces %v) took the findings from %d rows to %d", sortedKeys(after), rowsBefore, rows)
		}
	}
	clear(w.dirty)
	w.damaged = false
	w.lastBad = after
	return fmt.Sprintf("exit %d, bad before %v after %v", code, sortedKeys(before.bad), sortedKeys(after))
}

// checkReported: the run's report lists every piece in mustFail in a
// finding that is not repaired.
func (w *lifeWorld) checkReported(out string, mustFail []int) {
	w.t.Helper()
	run := runOf(w.t, out)
	var rep struct {
		Findings []catalog.VerifyFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(w.rep.cli(0, "report", run, "--format", "json")), &rep); err != nil {
		w.t.Fatalf("report %s --format json: %v", run, err)
	}
	reported := openPieces(rep.Findings)
	for _, p := range mustFail {
		if _, ok := reported[p]; !ok {
			w.t.Fatalf("invariant 4: piece %d fails and report %s names it in no open finding: %+v", p, run, rep.Findings)
		}
	}
}

// settle brings every fault to an end (source up, rep resumed, disk
// freed), scrubs so that rep knows of all damage, takes the operator's
// way out where no automatic one is meant to exist (a torrent held
// unavailable by a mass failure whose data stays bad: `archivd resume
// --force`), then waits, bounded, until rep's copy is intact, every piece
// recorded complete, no finding open, the torrent available and seeding,
// and a scrub exits 0.
func (w *lifeWorld) settle(why string) {
	w.t.Helper()
	if !w.srcUp {
		w.note("settle: %s", w.startSrc())
	}
	if w.full {
		w.note("settle: %s", w.freeDisk())
	}
	if w.paused {
		w.note("settle: resume %s", w.resume())
	}
	w.note("settle: scrub %s", w.scrub())
	v := w.look()
	if v.tor.Availability == catalog.AvailabilityUnavailable && len(v.bad) > 0 {
		out, errs, code := w.rep.run("resume", "--force", lifeName)
		w.note("settle: resume --force: exit %d %s%s", code, strings.TrimSpace(out), strings.TrimSpace(errs))
	}
	began := time.Now()
	var looked time.Time
	testutil.Eventually(w.t, 2*lifeBound, why+" settle: rep intact, complete, available, seeding, no finding open", func() bool {
		if time.Since(looked) < 500*time.Millisecond {
			return false // hashing and reading the catalog costs: twice a second is enough
		}
		looked = time.Now()
		w.check()
		v := w.look()
		return len(v.bad) == 0 && v.pieces.Complete.Count(w.l.pieces()) == w.l.pieces() && len(v.open) == 0 &&
			v.tor.Availability == catalog.AvailabilityOK && w.seeding()
	})
	w.note("settle: converged in %v", time.Since(began).Round(time.Millisecond))
	if code, out := w.verify(); code != 0 {
		w.t.Fatalf("invariant 2: verify exit %d after everything converged\n%s", code, out)
	}
}
