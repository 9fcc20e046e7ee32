package pgserver

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/heartbeat"
	"github.com/rs/zerolog"
)

// Supervise watches the postmaster every interval (0 = 2s) until ctx ends
// and starts the cluster again when it died or is a zombie, so that a
// daemon on the embedded default gets its catalog back by itself. Restart
// failures back off (internal/backoff); the death and the recovery are
// logged once each. beat (nil = none) is the daemon's heartbeat of this
// loop: working while it checks or restarts, waiting between checks.
func (s *Server) Supervise(ctx context.Context, interval time.Duration, log zerolog.Logger, beat *heartbeat.Beat) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	log = log.With().Str("component", "embedded-postgres").Str("dir", s.opts.Dir).Logger()
	bo := backoff.Backoff{Min: interval, Max: time.Minute}
	var downSince time.Time
	for {
		wait := interval
		beat.Beat()
		if pid, alive := s.postmaster(); !alive {
			if downSince.IsZero() {
				downSince = time.Now()
				log.Error().Int("pid", pid).Msg("embedded postgres is not running (postmaster dead or a zombie): restarting it")
			}
			if err := s.restart(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				first := !bo.Failing()
				wait = bo.Next()
				if first {
					log.Error().Err(err).Int64("retry_in_ms", wait.Milliseconds()).Msg("embedded postgres restart failed; retrying")
				}
			} else {
				newPID, _ := s.postmaster()
				log.Warn().Int("pid", newPID).Int64("down_ms", time.Since(downSince).Milliseconds()).Msg("embedded postgres restarted")
				downSince = time.Time{}
				bo.Reset()
			}
		}
		beat.Wait()
		if backoff.Sleep(ctx, wait) != nil {
			return
		}
	}
}

// restart starts the cluster again under ctl.lock, unless another archivd
// process did in the meantime.
func (s *Server) restart(ctx context.Context) error {
	unlock, err := s.lockCtl(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, alive := s.postmaster(); alive {
		return nil
	}
	return s.start(ctx)
}
