// Package httpapi is archivd's operations endpoint: Prometheus metrics,
// liveness and readiness probes, a read-only JSON API over the catalog and
// a self-contained status page. It serves on its own mux (never
// http.DefaultServeMux, which the torrent library registers debug handlers
// on) and its own Prometheus registry.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/health"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Live is what the running daemon knows that the catalog does not. The
// daemon adapts the seeder to it.
type Live interface {
	EngineAlive() error                     // nil when the torrent engine runs
	Transfer() (uploaded, downloaded int64) // bytes since start, all torrents
	Peers() int                             // connected peers
	PerTorrent() []TorrentLive              // only used when per-torrent metrics are enabled
}

// TorrentLive is the engine's view of one torrent.
type TorrentLive struct {
	InfoHash             string
	Name                 string
	Uploaded, Downloaded int64
	Peers                int
	Complete, Pieces     int
}

// Options configures the server; the first six fields come from the
// config's http section.
type Options struct {
	Listen            string // host:port; port 0 = any free port
	TokenFile         string // bearer token file; required unless Listen is loopback
	TLSCert, TLSKey   string // both or neither; PEM files
	PerTorrentMetrics bool   // per-torrent series (label cardinality grows with the catalog)
	DebugPprof        bool   // net/http/pprof under /debug/pprof/
	// RequireToken forces bearer-token checks even on a loopback address.
	// New sets it for non-loopback addresses.
	RequireToken bool

	DB   *catalog.DB
	Live Live // nil = engine not started (not ready)
	// Health evaluates the named checks; nil = defaults over DB.
	Health *health.Evaluator
	// NodeID labels the series that are this node's own.
	NodeID   string
	Version  string
	Logger   zerolog.Logger
	Counters *Counters // nil = NewCounters on a fresh registry

	// SampleInterval is how often Transfer is sampled for the throughput
	// chart; 0 = 10s. SampleKeep is how many samples are kept; 0 = 360.
	SampleInterval time.Duration
	SampleKeep     int
	// BalanceMargin is fleet.balance_margin now (the status page's
	// balance view, as `archivd fleet status`); nil = the default.
	BalanceMargin func() float64
	// StallAfter is fleet.recovery_stall_after now (the fleet view's
	// stalled replicas); nil = the default.
	StallAfter func() time.Duration
}

// Server is the operations HTTP server.
type Server struct {
	o        Options
	ln       net.Listener
	srv      *http.Server
	token    atomic.Pointer[[]byte] // sha256 of the token; nil = no auth
	counters *Counters
	reg      *prometheus.Registry
	ring     *ring
	tls      bool
	health   *health.Evaluator
}

// shutdownGrace bounds the graceful shutdown after the context ends.
const shutdownGrace = 5 * time.Second

// New validates o, reads the token and TLS files and binds the listener,
// so that a bad address or a port in use fails at start-up. Run serves;
// Close releases the listener when Run is never called.
func New(o Options) (*Server, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Server{o: o, ring: newRing(o.SampleKeep), health: o.Health}
	if s.health == nil {
		s.health = health.New(o.DB, nil, health.Config{})
	}
	tok, err := readToken(o.TokenFile, o.RequireToken)
	if err != nil {
		return nil, err
	}
	s.setToken(tok)
	tlsCfg, err := loadTLS(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, err
	}
	if err := s.setupMetrics(); err != nil {
		return nil, err
	}
	s.srv = &http.Server{
		Handler:           s.routes(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          newStdLogger(o.Logger),
	}
	if s.ln, err = net.Listen("tcp", o.Listen); err != nil {
		return nil, fmt.Errorf("httpapi: listen on %s (http.listen): %w", o.Listen, err)
	}
	s.tls = tlsCfg != nil
	return s, nil
}

// Addr is the address the server listens on (with the real port when
// Listen asked for port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close releases the listener of a server whose Run was never called.
func (s *Server) Close() error {
	_ = s.srv.Close()
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("httpapi: close listener %s: %w", s.Addr(), err)
	}
	return nil
}

// Run serves until ctx ends, then shuts down gracefully within a few
// seconds. It also owns the throughput sampler.
func (s *Server) Run(ctx context.Context) error {
	sampCtx, stopSampler := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s.sample(sampCtx)
	}()
	defer func() { stopSampler(); <-sampled }()

	served := make(chan error, 1)
	go func() { served <- s.serve() }()
	s.o.Logger.Info().Str("addr", s.Addr()).Bool("tls", s.tls).
		Bool("token", s.token.Load() != nil).Msg("http: serving")
	select {
	case err := <-served:
		return fmt.Errorf("httpapi: serve on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		_ = s.srv.Close() // stragglers past the grace period are cut off
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serve on %s: %w", s.Addr(), serr)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("httpapi: shut down: %w", err)
	}
	return nil
}

// serve serves on the bound listener; ServeTLS uses the certificate loaded
// into TLSConfig by New (the empty file names say so).
func (s *Server) serve() error {
	if s.tls {
		return s.srv.ServeTLS(s.ln, "", "")
	}
	return s.srv.Serve(s.ln)
}
