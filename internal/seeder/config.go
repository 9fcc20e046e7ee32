// Package seeder runs the BitTorrent engine (anacrolix/torrent) for
// archivd: it keeps the set of torrents in the engine equal to the runnable
// torrents of the catalog, records piece completion crash-consistently
// through package store, and writes observed state (transfer totals,
// peers, node clean-stop flag) back to the catalog.
package seeder

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/archivd/archivd/internal/heartbeat"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/rs/zerolog"
)

// Config is what the seeder needs; zero values take the defaults noted.
type Config struct {
	ListenHost     string // "" = all interfaces
	ListenPort     int    // 0 = random
	DHT            bool
	PEX            bool
	PortForwarding bool     // UPnP / NAT-PMP
	Trackers       []string // announce URLs added to every torrent

	UploadRate   int64 // bytes/s, 0 = unlimited
	DownloadRate int64 // bytes/s, 0 = unlimited
	// RecoveryRate bounds writes to replicas placed by the fleet planner
	// (see Limits); bytes/s, 0 = unlimited.
	RecoveryRate int64
	// RecoverySendRate bounds reads for peers of the torrents other nodes
	// are recovering from this one (see Limits); bytes/s, 0 = unlimited.
	RecoverySendRate int64

	MaxConnsPerTorrent int // 0 = engine default
	MaxHalfOpen        int // 0 = engine default
	// MaxConnsTotal caps established connections over all torrents by
	// spreading it (at least 2 each) over the torrents in the engine;
	// 0 = no cap.
	MaxConnsTotal int

	AnnounceIP string     // IP told to trackers (and DHT); "" = what they see
	Encryption string     // prefer (""), require or plaintext
	Blocklist  *Blocklist // consulted on every connection; nil = none

	CommitInterval    time.Duration // group commit of piece completion; 0 = 200ms
	MaxPendingPieces  int           // completions held while the DB is away; 0 = 1,000,000
	ReconcileInterval time.Duration // full catalog reconcile; 0 = 1m
	// MaxUnverifiedBytes bounds the pieces being downloaded at once over
	// all torrents (the engine's MaxUnverifiedBytes; at least one piece);
	// 0 = the engine's default, 64 MiB. What a kill costs: the engine
	// refetches a partly written piece whole, and it takes the chunks of
	// the pieces in this window in random order (and anacrolix seeds serve
	// requests in random order), so every piece of the window is partly
	// written at any time.
	MaxUnverifiedBytes int64

	// StatsInterval is how often transfer totals and peers are written to
	// the catalog; 0 = 30s. They are also written at a clean stop.
	StatsInterval time.Duration
	// ReadCheckEvery: a torrent a read for a peer failed on gets a verify
	// run (readcheck.go) at most once per this span; 0 = 10m.
	ReadCheckEvery time.Duration

	NodeID string // row in table nodes; required
	Logger zerolog.Logger
	// LogLevel is the live log level (the daemon's logger lets every level
	// through and filters when writing); nil = Logger's level.
	LogLevel func() zerolog.Level
	// Heartbeats gets a beat per loop and one for the engine (the
	// daemon's watchdog); nil = none.
	Heartbeats *heartbeat.Monitor
	// Changes delivers catalog changes; nil = the seeder runs its own
	// notifier (the daemon shares one between seeder and verify).
	Changes *catalog.Notifier
}

func (c *Config) setDefaults() {
	if c.CommitInterval == 0 {
		c.CommitInterval = 200 * time.Millisecond
	}
	if c.MaxPendingPieces == 0 {
		c.MaxPendingPieces = 1_000_000
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = time.Minute
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = 30 * time.Second
	}
	if c.ReadCheckEvery == 0 {
		c.ReadCheckEvery = 10 * time.Minute
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("seeder: node id is empty"))
	}
	if c.ListenPort < 0 || c.ListenPort > 65535 {
		errs = append(errs, fmt.Errorf("seeder: listen port %d is not a port (0-65535)", c.ListenPort))
	}
	if c.UploadRate < 0 || c.DownloadRate < 0 || c.RecoveryRate < 0 || c.RecoverySendRate < 0 {
		errs = append(errs, fmt.Errorf("seeder: rates must not be negative (upload %d, download %d, recovery %d, recovery send %d)",
			c.UploadRate, c.DownloadRate, c.RecoveryRate, c.RecoverySendRate))
	}
	if c.AnnounceIP != "" && net.ParseIP(c.AnnounceIP) == nil {
		errs = append(errs, fmt.Errorf("seeder: announce ip %q is not an IP address", c.AnnounceIP))
	}
	if c.MaxConnsPerTorrent < 0 || c.MaxHalfOpen < 0 || c.MaxPendingPieces < 0 || c.MaxConnsTotal < 0 || c.MaxUnverifiedBytes < 0 {
		errs = append(errs, errors.New("seeder: connection, pending and unverified limits must not be negative"))
	}
	if c.CommitInterval < 0 || c.ReconcileInterval < 0 || c.StatsInterval < 0 {
		errs = append(errs, errors.New("seeder: intervals must not be negative"))
	}
	return errors.Join(errs...)
}
