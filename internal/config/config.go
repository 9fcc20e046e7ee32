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

// Config is the whole configuration. Keys are the key tags joined by dots
// (network.listen_port); the environment name is ARCHIVD_ + the key in
// upper case with dots as underscores (ARCHIVD_NETWORK_LISTEN_PORT).
type Config struct {
	StateDir string         `key:"state_dir"` // holds the embedded PostgreSQL (StateDir/postgres) and the default data dir
	DataDir  string         `key:"data_dir"`  // "" = StateDir/data; torrents get their own directory below it
	NodeID   string         `key:"node_id"`   // "" = hostname
	Node     NodeConfig     `key:"node"`      // what this node tells the others (a shared catalog)
	Fleet    FleetConfig    `key:"fleet"`     // placement and recovery over the nodes of a shared catalog
	Log      LogConfig      `key:"log"`
	Database DatabaseConfig `key:"database"`
	Network  NetworkConfig  `key:"network"`
	Seeder   SeederConfig   `key:"seeder"`
	Verify   VerifyConfig   `key:"verify"`
	HTTP     HTTPConfig     `key:"http"`
	Health   HealthConfig   `key:"health"` // thresholds of the health checks
	// Retention bounds the catalog tables that only grow (events, runs...).
	Retention RetentionConfig `key:"retention"`

	// Collections declared by the file (see CollectionConfig). Not a flat
	// key: no environment variable or flag sets it.
	Collections []CollectionConfig `key:"-"`
	// PruneCollections: a collection the config created and no longer
	// declares is removed from the catalog (its torrents too; data kept).
	// false = it is left in the catalog.
	PruneCollections bool `key:"prune_collections"`
}

// LogConfig configures the zerolog logger.
type LogConfig struct {
	Level  string `key:"level"`  // trace|debug|info|warn|error
	Format string `key:"format"` // auto (console on a terminal, else JSON)|json|console
}

// DatabaseConfig says where the catalog lives.
type DatabaseConfig struct {
	URL            string `key:"url"`              // "" = embedded private PostgreSQL under StateDir/postgres
	PasswordFile   string `key:"password_file"`    // password read from this file, injected into URL
	AutoMigrate    bool   `key:"auto_migrate"`     // serve applies pending migrations instead of refusing
	EmbeddedBinDir string `key:"embedded_bin_dir"` // "" = auto-detect initdb/pg_ctl
	// SessionURL is a direct connection to PostgreSQL (no pooler in
	// transaction mode) for the one LISTEN session; "" = URL. The
	// password of PasswordFile is injected into it too.
	SessionURL string `key:"session_url"`
	// PoolMode is what sits in front of URL: "session" (PostgreSQL
	// itself, or a pooler in session mode) or "transaction" (PgBouncer
	// pool_mode=transaction: no prepared statements are kept).
	PoolMode string `key:"pool_mode"`
	// Listen: the daemon LISTENs for catalog changes; false = it polls
	// the change log every PollInterval (no LISTEN anywhere).
	Listen       bool          `key:"listen"`
	PollInterval time.Duration `key:"poll_interval"` // with listen: false
}

// NetworkConfig configures the BitTorrent engine's networking.
type NetworkConfig struct {
	ListenHost         string   `key:"listen_host"`
	ListenPort         int      `key:"listen_port"`           // 0 = random
	DHT                bool     `key:"dht"`                   // off by default: no traffic beyond configured peers
	PEX                bool     `key:"pex"`                   // peer exchange
	PortForwarding     bool     `key:"port_forwarding"`       // UPnP/NAT-PMP
	Trackers           []string `key:"trackers"`              // extra announce URLs added to every torrent
	UploadRate         ByteSize `key:"upload_rate"`           // bytes/s; 0 = unlimited
	DownloadRate       ByteSize `key:"download_rate"`         // bytes/s; 0 = unlimited
	MaxConnsPerTorrent int      `key:"max_conns_per_torrent"` // established peer connections per torrent
	MaxHalfOpen        int      `key:"max_half_open"`         // outgoing connection attempts in flight

	// Interface binds the listener to this network interface's address
	// instead of listen_host; "" = use listen_host.
	Interface     string `key:"interface"`
	AnnounceIP    string `key:"announce_ip"`     // IP told to trackers; "" = the address they see
	MaxConnsTotal int    `key:"max_conns_total"` // established connections over all torrents; 0 = no cap
	BlocklistFile string `key:"blocklist_file"`  // PeerGuardian text ranges refused as peers; "" = none
	Encryption    string `key:"encryption"`      // prefer|require|plaintext

	// Alternative speed: windows opened by cron expressions, each lasting
	// AltSpeedDuration, during which the alt rates replace upload_rate and
	// download_rate (0 = unlimited). [] = no windows.
	AltSpeedSchedules []string      `key:"alt_speed_schedules"`
	AltSpeedDuration  time.Duration `key:"alt_speed_duration"`
	AltSpeedTimezone  string        `key:"alt_speed_timezone"` // of the schedules; "Local" = the host's
	AltUploadRate     ByteSize      `key:"alt_upload_rate"`    // bytes/s in a window; 0 = unlimited
	AltDownloadRate   ByteSize      `key:"alt_download_rate"`  // bytes/s in a window; 0 = unlimited
}

// SeederConfig tunes how the daemon records piece state.
type SeederConfig struct {
	CommitInterval    time.Duration `key:"commit_interval"`    // group commit of piece completion
	MaxPendingPieces  int           `key:"max_pending_pieces"` // completions held in memory while the DB is away
	ReconcileInterval time.Duration `key:"reconcile_interval"` // full catalog reconcile, a safety net for missed NOTIFYs
	// MaxUnverified bounds the bytes of pieces being downloaded (requested,
	// partly received or waiting for their hash) over all torrents; the
	// engine takes at least one piece at a time. A kill loses what is in
	// them: the engine cannot resume a partly written piece.
	MaxUnverified ByteSize `key:"max_unverified"`
}

// VerifyConfig is the scrub policy.
type VerifyConfig struct {
	Schedules        []string      `key:"schedules"`          // cron expressions (5 fields) opening scrub windows
	Timezone         string        `key:"timezone"`           // of the schedules; "Local" = the host's
	MaxRun           time.Duration `key:"max_run"`            // longest run per window; 0 = until done
	Rate             ByteSize      `key:"rate"`               // read rate limit, bytes/s; 0 = unlimited
	Interval         time.Duration `key:"interval"`           // every piece verified at least this often
	RangeBytes       ByteSize      `key:"range_bytes"`        // progress granularity
	Workers          int           `key:"workers"`            // hashing goroutines; 0 = number of CPUs
	MassFailureRatio float64       `key:"mass_failure_ratio"` // above this share of failing pieces, repair is held
	ReportDir        string        `key:"report_dir"`         // "" = no report files
	WebhookURL       string        `key:"webhook_url"`        // "" = none; receives the JSON report of runs with findings
	// WebhookSecretFile holds the HMAC-SHA256 key that signs each webhook
	// delivery (X-Archivd-Signature); read at each delivery; "" = unsigned.
	WebhookSecretFile string `key:"webhook_secret_file"`
}

// HTTPConfig configures metrics, health and the status page.
type HTTPConfig struct {
	Listen            string `key:"listen"`     // "" = off
	TokenFile         string `key:"token_file"` // bearer token; required when Listen is not loopback
	TLSCert           string `key:"tls_cert"`
	TLSKey            string `key:"tls_key"`
	PerTorrentMetrics bool   `key:"per_torrent_metrics"` // per-torrent series: label cardinality grows with the catalog
	// DebugPprof serves Go's profiles (net/http/pprof) under /debug/pprof/,
	// behind the same token as the rest.
	DebugPprof bool `key:"debug_pprof"`
}

// Default returns the configuration used when nothing is set: safe for a
// developer machine (loopback only, no DHT, PEX or port forwarding).
func Default() Config {
	return Config{
		StateDir: "./state",
		Database: DatabaseConfig{PoolMode: "session", Listen: true, PollInterval: 2 * time.Second},
		Node:     NodeConfig{Tags: []string{}},
		Log:      LogConfig{Level: "info", Format: "auto"},
		Network: NetworkConfig{
			ListenHost:         "127.0.0.1",
			ListenPort:         6881,
			Trackers:           []string{},
			MaxConnsPerTorrent: 50,
			MaxHalfOpen:        25,
			Encryption:         "prefer",
			AltSpeedSchedules:  []string{},
			AltSpeedDuration:   time.Hour,
			AltSpeedTimezone:   "Local",
		},
		Seeder: SeederConfig{
			CommitInterval:    200 * time.Millisecond,
			MaxPendingPieces:  1000000,
			ReconcileInterval: time.Minute,
			MaxUnverified:     8 * MiB,
		},
		Verify: VerifyConfig{
			Schedules:        []string{"0 1 * * *"},
			Timezone:         "Local",
			MaxRun:           6 * time.Hour,
			Interval:         720 * time.Hour,
			RangeBytes:       GiB,
			MassFailureRatio: 0.2,
		},
		HTTP:      HTTPConfig{Listen: "127.0.0.1:8571"},
		Retention: defaultRetention(),
		Fleet:     defaultFleet(),
		Health:    defaultHealth(),
	}
}

// ResolvedNodeID is NodeID, or the hostname when NodeID is empty, or
// "archivd" when the hostname is unknown: the one name a node goes by in
// the catalog (nodes, verify runs, leases).
func (c *Config) ResolvedNodeID() string {
	if c.NodeID != "" {
		return c.NodeID
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "archivd"
	}
	return h
}

// ResolvedDataDir is DataDir, or StateDir/data when DataDir is empty.
func (c *Config) ResolvedDataDir() string {
	if c.DataDir != "" {
		return c.DataDir
	}
	return filepath.Join(c.StateDir, "data")
}
