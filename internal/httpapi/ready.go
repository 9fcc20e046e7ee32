package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// readyTimeout bounds the catalog check of /readyz so that a stuck
// database answers "degraded" instead of hanging the probe.
const readyTimeout = 3 * time.Second

// Ready is the /readyz check, a process check: the torrent engine runs
// and has taken in the catalog's torrents. The catalog plays no part: a
// daemon whose catalog is away keeps seeding and catches up, which is a
// degraded state (Degraded, the status page, /healthz/detail), not a
// reason to restart or unroute it.
func (s *Server) Ready(context.Context) error { return s.engineAlive() }

// Degraded names what the daemon runs without ("" = nothing): the catalog
// unreachable, or its schema not current.
func (s *Server) Degraded(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.o.DB.Ping(ctx); err != nil {
		return fmt.Sprintf("catalog unreachable: %v", err)
	}
	if err := s.o.DB.CheckSchema(ctx); err != nil {
		return fmt.Sprintf("catalog: %v", err)
	}
	return ""
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
	if d := s.Degraded(r.Context()); d != "" {
		_, _ = fmt.Fprintf(w, "ready (degraded: %s)\n", d)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
