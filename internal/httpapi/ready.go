package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// readyTimeout bounds one readiness check so a stuck database answers
// "not ready" instead of hanging the probe.
const readyTimeout = 3 * time.Second

// Ready is the /readyz check: the catalog answers, its schema is current
// and the torrent engine runs.
func (s *Server) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.o.DB.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("catalog: ping: %w", err)
	}
	if err := s.o.DB.CheckSchema(ctx); err != nil {
		return err
	}
	return s.engineAlive()
}

func (s *Server) engineAlive() error {
	if s.o.Live == nil {
		return errors.New("engine: not started")
	}
	if err := s.o.Live.EngineAlive(); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
