package seeder

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/archivd/archivd/internal/backoff"
)

// catalogChannel is the NOTIFY channel of the catalog's change triggers.
const catalogChannel = "archivd_catalog"

const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// change is the payload of a catalog NOTIFY.
type change struct {
	Table string `json:"table"`
	Op    string `json:"op"`
	ID    int64  `json:"id"`
}

// listenLoop keeps a dedicated connection LISTENing to catalog changes,
// reconnecting with bounded backoff while the database is away; the
// outage is logged once when it starts and once when LISTEN works again.
func (s *Seeder) listenLoop(ctx context.Context) {
	r := &backoff.Retry{Backoff: backoff.Backoff{Min: listenBackoffMin, Max: listenBackoffMax}, Log: s.log,
		What: "seeder: catalog change listener"}
	for ctx.Err() == nil {
		_, err := s.listenOnce(ctx, r.OK) // OK once LISTEN works: a later failure is a new outage
		s.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		s.listenErr.Store(err.Error())
		if backoff.Sleep(ctx, r.Fail(err)) != nil {
			return
		}
	}
}

// listenOnce connects, LISTENs and dispatches notifications until the
// connection fails. Changes made while it was down are caught by the full
// reconcile it requests once listening.
func (s *Seeder) listenOnce(ctx context.Context, listening func()) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("seeder: connect for LISTEN: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+catalogChannel); err != nil {
		return false, fmt.Errorf("seeder: LISTEN %s: %w", catalogChannel, err)
	}
	s.listening.Store(true)
	listening()
	s.requestFull()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("seeder: wait for catalog changes: %w", err)
		}
		s.dispatch(n.Payload)
	}
}

func (s *Seeder) dispatch(payload string) {
	var c change
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		s.log.Warn().Str("payload", payload).Msg("unreadable catalog change notification")
		return
	}
	switch c.Table {
	case "torrents":
		s.requestReconcile(c.ID)
	case "collections":
		s.requestFull()
	}
}
