package health

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
	"github.com/archivd/archivd/internal/verify"
)

// refs caps ts at MaxDetail and renders one detail line per torrent.
func refs(ts []catalog.TorrentRef, line func(catalog.TorrentRef) string) ([]catalog.TorrentRef, []string) {
	ts = ts[:min(len(ts), MaxDetail)]
	lines := make([]string, len(ts))
	for i, t := range ts {
		lines[i] = fmt.Sprintf("%s (%s, %.12s): %s", t.Name, t.Collection, t.InfoHash, line(t))
	}
	return ts, lines
}

// hashes lists the infohashes of ts for a command line.
func hashes(ts []catalog.TorrentRef) string {
	hs := make([]string, len(ts))
	for i, t := range ts {
		hs[i] = t.InfoHash
	}
	return strings.Join(hs, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (e *Evaluator) checkUnavailable(ctx context.Context, r *Report) error {
	ts, err := e.db.UnavailableTorrents(ctx)
	if err != nil || len(ts) == 0 {
		return err
	}
	shown, lines := refs(ts, func(t catalog.TorrentRef) string { return t.Reason })
	r.add(Check{Code: TorrentUnavailable, Severity: Err, Count: len(ts), Torrents: shown, Detail: lines,
		Summary: plural(len(ts), "torrent is", "torrents are") + " unavailable: not seeded, not repaired",
		Command: e.cmd("resume", hashes(shown)),
		Hint:    "once the data is back in its data directory (see each reason): resume checks it again"})
	return nil
}

// checkDegraded raises TORRENT_DEGRADED: torrents seeding what they have
// whose writes fail; ERR when the disk is full or read-only (downloads and
// repairs stop until an operator acts), WARN for I/O errors the daemon
// retries.
func (e *Evaluator) checkDegraded(ctx context.Context, r *Report) error {
	ts, err := e.db.DegradedTorrents(ctx)
	if err != nil || len(ts) == 0 {
		return err
	}
	sev := Warn
	var dirs []string
	for _, t := range ts {
		if !strings.HasPrefix(t.Reason, string(catalog.CauseWriteIOError)) {
			sev = Err
		}
		dirs = append(dirs, existingParent(t.DataDir))
	}
	slices.Sort(dirs)
	shown, lines := refs(ts, func(t catalog.TorrentRef) string { return t.Reason })
	r.add(Check{Code: TorrentDegraded, Severity: sev, Count: len(ts), Torrents: shown, Detail: lines,
		Summary: plural(len(ts), "torrent cannot", "torrents cannot") + " write its data: seeding what it has, downloads and repairs suspended",
		Command: "df -h " + shellJoin(slices.Compact(dirs)[:min(len(slices.Compact(dirs)), MaxDetail)]),
		Hint:    "free space (or fix the file system) there; the daemon retries the writes with backoff"})
	return nil
}

func (e *Evaluator) checkHeld(ctx context.Context, r *Report) error {
	ts, err := e.db.TorrentsWithFindings(ctx, []string{"held"})
	if err != nil || len(ts) == 0 {
		return err
	}
	var n int64
	for _, t := range ts {
		n += t.Count
	}
	shown, lines := refs(ts, func(t catalog.TorrentRef) string {
		return fmt.Sprintf("%s held since %s", plural(int(t.Count), "finding", "findings"), stamp(t.Since))
	})
	r.add(Check{Code: RepairHeld, Severity: Err, Count: len(ts), Torrents: shown, Detail: lines,
		Summary: fmt.Sprintf("repair held for %s of %s (data directory missing or mass failure)",
			plural(int(n), "finding", "findings"), plural(len(ts), "torrent", "torrents")),
		Command: e.cmd("resume", hashes(shown)),
		Hint:    "after checking the disk: resume hashes the data again, closes the findings of pieces found intact and repairs the others; with --force also when most of it is bad"})
	return nil
}

func (e *Evaluator) checkDamage(ctx context.Context, r *Report) error {
	ts, err := e.db.TorrentsWithFindings(ctx, []string{"open", "repairing"})
	if err != nil || len(ts) == 0 {
		return err
	}
	var n int64
	sev := Warn // being repaired from the swarm
	for _, t := range ts {
		n += t.Count
		if strings.Contains(t.Reason, "(open)") {
			sev = Err // nobody is repairing it
		}
	}
	shown, lines := refs(ts, func(t catalog.TorrentRef) string {
		return fmt.Sprintf("%s: %s since %s", plural(int(t.Count), "finding", "findings"), t.Reason, stamp(t.Since))
	})
	r.add(Check{Code: DamageOpen, Severity: sev, Count: len(ts), Torrents: shown, Detail: lines,
		Summary: fmt.Sprintf("%s not repaired in %s", plural(int(n), "damaged piece finding", "damaged piece findings"),
			plural(len(ts), "torrent", "torrents")),
		Command: e.cmd("verify", hashes(shown)),
		Hint:    "re-hash them now: the daemon repairs bad pieces from the swarm ('archivd report' shows the findings)"})
	return nil
}

// Overdue lists the torrents with pieces not verified within their
// collection's interval (Count pieces, Bytes of data each).
func (e *Evaluator) Overdue(ctx context.Context) ([]catalog.TorrentRef, error) {
	if e.db == nil {
		return nil, e.err
	}
	cs, err := e.db.Collections(ctx)
	if err != nil {
		return nil, err
	}
	now := e.now()
	cut := map[int64]time.Time{}
	for _, c := range cs {
		cut[c.ID] = now.Add(-verify.CollectionInterval(c.VerifyPolicy, e.config().Verify.Interval))
	}
	return e.db.OverdueTorrents(ctx, now.Add(-e.config().Verify.Interval), cut)
}

func (e *Evaluator) checkOverdue(ctx context.Context, r *Report) error {
	ts, err := e.Overdue(ctx)
	if err != nil || len(ts) == 0 {
		return err
	}
	var pieces, bytes int64
	for _, t := range ts {
		pieces, bytes = pieces+t.Count, bytes+t.Bytes
	}
	shown, lines := refs(ts, func(t catalog.TorrentRef) string {
		return fmt.Sprintf("%d pieces (%s) last verified %s", t.Count, human.Bytes(t.Bytes), stamp(t.Since))
	})
	r.add(Check{Code: PiecesNotVerified, Severity: Warn, Count: len(ts), Torrents: shown, Detail: lines,
		Summary: fmt.Sprintf("%d pieces (%s) of %s not verified within their interval",
			pieces, human.Bytes(bytes), plural(len(ts), "torrent", "torrents")),
		Command: e.cmd("verify", hashes(shown)),
		Hint:    "queue a run now ('archivd verify status' follows it); if this recurs, widen verify.max_run or add windows"})
	return nil
}

func (e *Evaluator) checkScrubBehind(ctx context.Context, r *Report) error {
	run, caughtUp, ok, err := e.db.LastScheduledRun(ctx)
	if err != nil || !ok || caughtUp || run.State != catalog.RunCancelled {
		return err
	}
	if strings.HasPrefix(run.Error, catalog.RunSkippedByWindow) {
		r.add(Check{Code: ScrubBehindSchedule, Severity: Warn, Count: 1,
			Summary: fmt.Sprintf("scheduled verify run %d was skipped: its window ended at %s before it started",
				run.ID, stamp(run.FinishedAt)),
			Detail:  []string{fmt.Sprintf("run %d: %s", run.ID, run.Error)},
			Command: e.cmd("verify"),
			Hint:    "catch up now with a run over everything; if the node is busy every window, widen verify.max_run or add windows"})
		return nil
	}
	if !strings.HasPrefix(run.Error, catalog.RunCutByWindow) {
		return nil
	}
	left := max(0, run.BytesPlanned-run.BytesHashed)
	r.add(Check{Code: ScrubBehindSchedule, Severity: Warn, Count: 1,
		Summary: fmt.Sprintf("scheduled verify run %d was cut by its window at %s with %s of %s not hashed",
			run.ID, stamp(run.FinishedAt), human.Bytes(left), human.Bytes(run.BytesPlanned)),
		Detail:  []string{fmt.Sprintf("run %d: %s", run.ID, run.Error)},
		Command: e.cmd("verify"),
		Hint:    "catch up now with a run over everything; then widen verify.max_run, raise verify.rate or add windows"})
	return nil
}

func stamp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
