package store

import (
	"context"
	"time"
)

// defaultMaxBackoff bounds the wait between commit attempts while the
// catalog is unreachable.
const defaultMaxBackoff = 30 * time.Second

// finalFlushTimeout bounds the last commit after Run's context ends.
const finalFlushTimeout = 10 * time.Second

// Run does group commits every CommitInterval (sooner when many
// completions wait), backing off up to 30s while the catalog is
// unreachable, until ctx is done; then it commits what it can and
// returns the error of that last commit.
func (s *Store) Run(ctx context.Context) error {
	defer s.stop()
	wait := s.interval
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.beat.Wait()
		select {
		case <-ctx.Done():
			return s.finalFlush()
		case <-timer.C:
		case <-s.kick:
			if !s.Health().DBOK {
				continue // backing off: the timer decides
			}
			timer.Stop()
		}
		s.beat.Beat()
		cctx, cancel := context.WithTimeout(ctx, max(10*time.Second, 4*s.interval))
		err := s.commit(cctx)
		cancel()
		wait = s.nextWait(wait, err)
		timer.Reset(wait)
	}
}

// nextWait is the wait before the next commit: the interval after a
// success, doubling up to maxBackoff while commits fail. The outage is
// logged once when it starts and once when a commit works again.
func (s *Store) nextWait(prev time.Duration, err error) time.Duration {
	if err == nil {
		if !s.commitDownSince.IsZero() {
			s.log.Info().Int64("outage_ms", time.Since(s.commitDownSince).Milliseconds()).Msg("group commit works again")
			s.commitDownSince = time.Time{}
		}
		return s.interval
	}
	next := min(max(2*prev, s.interval), s.maxBackoff)
	if s.commitDownSince.IsZero() {
		s.commitDownSince = time.Now()
		s.log.Warn().Err(err).Int64("retry_in_ms", next.Milliseconds()).
			Msg("group commit failed: piece states held in memory, retrying with backoff (logged again when it works)")
	}
	return next
}

func (s *Store) finalFlush() error {
	ctx, cancel := context.WithTimeout(context.Background(), finalFlushTimeout)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		s.log.Error().Err(err).Msg("final commit of piece states failed: the next start trusts only what the catalog recorded")
		return err
	}
	return nil
}
