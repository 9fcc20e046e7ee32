package verify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/archivd/archivd/internal/backoff"
)

// listen LISTENs on the catalog's NOTIFY channel and signals wake when a
// verify run is queued, so `archivd verify` starts at once rather than at
// the next poll. Polling stays as the safety net: if the connection drops
// it retries after Poll.
func (s *Service) listen(ctx context.Context, wake chan<- struct{}) error {
	r := &backoff.Retry{Backoff: backoff.Backoff{Min: max(s.e.cfg.Poll, time.Second), Max: time.Minute}, Log: s.e.log,
		What: "verify: listen for queued runs (polling meanwhile)"}
	for {
		err := s.listenOnce(ctx, wake, r.OK)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := backoff.Sleep(ctx, r.Fail(err)); err != nil {
			return err
		}
	}
}

func (s *Service) listenOnce(ctx context.Context, wake chan<- struct{}, listening func()) error {
	conn, err := s.e.db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN archivd_catalog"); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var p struct {
			Table string `json:"table"`
			ID    int64  `json:"id"`
		}
		if json.Unmarshal([]byte(n.Payload), &p) == nil && p.Table == "torrents" && p.ID != 0 {
			select {
			case s.recheckWake <- p.ID:
			default: // a re-check is already pending
			}
		}
		if json.Unmarshal([]byte(n.Payload), &p) == nil && p.Table == "verify_runs" {
			select {
			case wake <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}
}
