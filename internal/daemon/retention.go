package daemon

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/rs/zerolog"
)

// retention prunes the catalog's growing tables every
// retention.interval, with the configuration in force at each pass (a
// reload applies at the next one), backing off on errors.
type retention struct {
	db  *catalog.DB
	cfg func() config.RetentionConfig
	log zerolog.Logger
	now func() time.Time
}

// run prunes until ctx ends; it logs a failure once, not per retry.
func (r *retention) run(ctx context.Context) {
	wait := backoff.Backoff{Min: 10 * time.Second, Max: r.cfg().Interval}
	for {
		err := r.prune(ctx)
		if ctx.Err() != nil {
			return
		}
		delay := r.cfg().Interval
		switch {
		case err != nil:
			if !wait.Failing() {
				r.log.Warn().Err(err).Msg("catalog retention failed; retrying")
			}
			delay = wait.Next()
		case wait.Failing():
			r.log.Info().Msg("catalog retention works again")
			wait.Reset()
		}
		if backoff.Sleep(ctx, delay) != nil {
			return
		}
	}
}

// prune runs one pass over every table and logs what it deleted.
func (r *retention) prune(ctx context.Context) error {
	c, now := r.cfg(), r.now()
	before := func(d time.Duration) time.Time { return now.Add(-d) }
	steps := []struct {
		key  string
		on   bool
		call func() (int64, error)
	}{
		{"events", c.Events > 0, func() (int64, error) { return r.db.PruneEvents(ctx, before(c.Events), c.Batch) }},
		{"verify_jobs", c.VerifyJobs > 0, func() (int64, error) { return r.db.PruneVerifyJobs(ctx, before(c.VerifyJobs), c.Batch) }},
		{"verify_runs", c.VerifyRuns > 0, func() (int64, error) { return r.db.PruneVerifyRuns(ctx, c.VerifyRuns, c.Batch) }},
		{"findings", c.Findings > 0, func() (int64, error) { return r.db.PruneFindings(ctx, before(c.Findings), c.Batch) }},
		{"catalog_changes", c.Batch > 0, func() (int64, error) { return r.db.PruneChanges(ctx, c.Batch) }},
		{"peers", c.Peers > 0, func() (int64, error) { return r.db.ForgetOldPeers(ctx, before(c.Peers), c.Batch) }},
	}
	ev, deleted := r.log.Info(), int64(0)
	for _, s := range steps {
		if !s.on {
			continue
		}
		n, err := s.call()
		if err != nil {
			return err
		}
		ev, deleted = ev.Int64(s.key, n), deleted+n
	}
	if deleted > 0 {
		ev.Msg("catalog retention: old rows deleted")
	}
	return nil
}
