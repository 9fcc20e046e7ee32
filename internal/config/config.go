// Package config loads archivd's configuration in stages: defaults, a YAML
// file, ARCHIVD_* environment variables, then command-line flags; unknown
// keys at any stage are errors, and one Validate names the key and the
// value that is wrong.
package config

import (
	"os"
	"path/filepath"
	"time"
)

// Config is the whole configuration. Keys are the koanf tags joined by dots
// (network.listen_port); the environment name is ARCHIVD_ + the key in
// upper case with dots as underscores (ARCHIVD_NETWORK_LISTEN_PORT).
type Config struct {
	StateDir string         `koanf:"state_dir"` // holds the embedded PostgreSQL (StateDir/postgres) and the default data dir
	DataDir  string         `koanf:"data_dir"`  // "" = StateDir/data; torrents get their own directory below it
	NodeID   string         `koanf:"node_id"`   // "" = hostname
	Log      LogConfig      `koanf:"log"`
	Database DatabaseConfig `koanf:"database"`
	Network  NetworkConfig  `koanf:"network"`
	Seeder   SeederConfig   `koanf:"seeder"`
	Verify   VerifyConfig   `koanf:"verify"`
	HTTP     HTTPConfig     `koanf:"http"`

	// Collections declared by the file (see CollectionConfig). Not a flat
	// key: no environment variable or flag sets it.
	Collections []CollectionConfig `koanf:"-"`
	// PruneCollections: a collection the config created and no longer
	// declares is removed from the catalog (its torrents too; data kept).
	// false = it is left in the catalog.
	PruneCollections bool `koanf:"prune_collections"`
}

// LogConfig configures the zerolog logger.
type LogConfig struct {
	Level  string `koanf:"level"`  // trace|debug|info|warn|error
	Format string `koanf:"format"` // auto (console on a terminal, else JSON)|json|console
}

// DatabaseConfig says where the catalog lives.
type DatabaseConfig struct {
	URL            string `koanf:"url"`              // "" = embedded private PostgreSQL under StateDir/postgres
	PasswordFile   string `koanf:"password_file"`    // password read from this file, injected into URL
	AutoMigrate    bool   `koanf:"auto_migrate"`     // serve applies pending migrations instead of refusing
	EmbeddedBinDir string `koanf:"embedded_bin_dir"` // "" = auto-detect initdb/pg_ctl
}

// NetworkConfig configures the BitTorrent engine's networking.
type NetworkConfig struct {
	ListenHost         string   `koanf:"listen_host"`
	ListenPort         int      `koanf:"listen_port"`           // 0 = random
	DHT                bool     `koanf:"dht"`                   // off by default: no traffic beyond configured peers
	PEX                bool     `koanf:"pex"`                   // peer exchange
	PortForwarding     bool     `koanf:"port_forwarding"`       // UPnP/NAT-PMP
	Trackers           []string `koanf:"trackers"`              // extra announce URLs added to every torrent
	UploadRate         ByteSize `koanf:"upload_rate"`           // bytes/s; 0 = unlimited
	DownloadRate       ByteSize `koanf:"download_rate"`         // bytes/s; 0 = unlimited
	MaxConnsPerTorrent int      `koanf:"max_conns_per_torrent"` // established peer connections per torrent
	MaxHalfOpen        int      `koanf:"max_half_open"`         // outgoing connection attempts in flight
}

// SeederConfig tunes how the daemon records piece state.
type SeederConfig struct {
	CommitInterval    time.Duration `koanf:"commit_interval"`    // group commit of piece completion
	MaxPendingPieces  int           `koanf:"max_pending_pieces"` // completions held in memory while the DB is away
	ReconcileInterval time.Duration `koanf:"reconcile_interval"` // full catalog reconcile, a safety net for missed NOTIFYs
}

// VerifyConfig is the scrub policy.
type VerifyConfig struct {
	Schedules        []string      `koanf:"schedules"`          // cron expressions (5 fields) opening scrub windows
	Timezone         string        `koanf:"timezone"`           // of the schedules; "Local" = the host's
	MaxRun           time.Duration `koanf:"max_run"`            // longest run per window; 0 = until done
	Rate             ByteSize      `koanf:"rate"`               // read rate limit, bytes/s; 0 = unlimited
	Interval         time.Duration `koanf:"interval"`           // every piece verified at least this often
	RangeBytes       ByteSize      `koanf:"range_bytes"`        // progress granularity
	Workers          int           `koanf:"workers"`            // hashing goroutines; 0 = number of CPUs
	MassFailureRatio float64       `koanf:"mass_failure_ratio"` // above this share of failing pieces, repair is held
	ReportDir        string        `koanf:"report_dir"`         // "" = no report files
	WebhookURL       string        `koanf:"webhook_url"`        // "" = none; receives the JSON report of runs with findings
}

// HTTPConfig configures metrics, health and the status page.
type HTTPConfig struct {
	Listen            string `koanf:"listen"`     // "" = off
	TokenFile         string `koanf:"token_file"` // bearer token; required when Listen is not loopback
	TLSCert           string `koanf:"tls_cert"`
	TLSKey            string `koanf:"tls_key"`
	PerTorrentMetrics bool   `koanf:"per_torrent_metrics"` // per-torrent series: label cardinality grows with the catalog
}

// Default returns the configuration used when nothing is set: safe for a
// developer machine (loopback only, no DHT, PEX or port forwarding).
func Default() Config {
	return Config{
		StateDir: "./state",
		Log:      LogConfig{Level: "info", Format: "auto"},
		Network: NetworkConfig{
			ListenHost:         "127.0.0.1",
			ListenPort:         6881,
			Trackers:           []string{},
			MaxConnsPerTorrent: 50,
			MaxHalfOpen:        25,
		},
		Seeder: SeederConfig{
			CommitInterval:    200 * time.Millisecond,
			MaxPendingPieces:  1000000,
			ReconcileInterval: time.Minute,
		},
		Verify: VerifyConfig{
			Schedules:        []string{"0 1 * * *"},
			Timezone:         "Local",
			MaxRun:           6 * time.Hour,
			Interval:         720 * time.Hour,
			RangeBytes:       GiB,
			MassFailureRatio: 0.2,
		},
		HTTP: HTTPConfig{Listen: "127.0.0.1:8571"},
	}
}

// ResolvedDataDir is DataDir, or StateDir/data when DataDir is empty.
func (c *Config) ResolvedDataDir() string {
	if c.DataDir != "" {
		return c.DataDir
	}
	return filepath.Join(c.StateDir, "data")
}

// ResolvedNodeID is NodeID, or the hostname when NodeID is empty.
func (c *Config) ResolvedNodeID() string {
	if c.NodeID != "" {
		return c.NodeID
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
