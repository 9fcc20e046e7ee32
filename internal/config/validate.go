package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/loopback"
	"github.com/robfig/cron/v3"
)

var nodeIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks every key; the error names the first bad key and value,
// e.g. `config: network.listen_port: 70000 is not a port (0-65535)`.
func (c *Config) Validate() error {
	checks := []func() error{c.validateTop, c.validateNode, c.validateFleet, c.validateLog, c.validateDatabase, c.validateNetwork,
		c.validateSeeder, c.validateVerify, c.validateHTTP, c.validateHealth, c.validateRetention, c.validateCollections, c.validateDataDirs}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateTop() error {
	if strings.TrimSpace(c.StateDir) == "" {
		return errorf("state_dir: must not be empty")
	}
	if c.NodeID != "" && !nodeIDRe.MatchString(c.NodeID) {
		return errorf("node_id: %q is not a node id (letters, digits, '.', '_', '-'; at most 64)", c.NodeID)
	}
	return nil
}

func (c *Config) validateLog() error {
	if !slices.Contains([]string{"trace", "debug", "info", "warn", "error"}, c.Log.Level) {
		return errorf("log.level: %q is not one of trace, debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "json", "console"}, c.Log.Format) {
		return errorf("log.format: %q is not one of auto, json, console", c.Log.Format)
	}
	return nil
}

func (c *Config) validateDatabase() error {
	d := c.Database
	if d.URL == "" {
		if d.PasswordFile != "" {
			return errorf("database.password_file: %q is set but database.url is empty (the embedded database needs no password)", d.PasswordFile)
		}
		if d.SessionURL != "" {
			return errorf("database.session_url: %q is set but database.url is empty (the embedded database needs no session url)", redactURL(d.SessionURL))
		}
	}
	if err := checkDatabaseURL("database.url", d.URL); err != nil {
		return err
	}
	if err := checkDatabaseURL("database.session_url", d.SessionURL); err != nil {
		return err
	}
	if !slices.Contains([]string{"session", "transaction"}, d.PoolMode) {
		return errorf("database.pool_mode: %q is not session or transaction", d.PoolMode)
	}
	if d.PoolMode == "transaction" && d.Listen && d.SessionURL == "" {
		return errorf("database.session_url: is empty, but database.pool_mode is transaction and database.listen is true: " +
			"LISTEN needs a direct connection (set database.session_url to PostgreSQL itself, or database.listen: false)")
	}
	if d.PollInterval < 100*time.Millisecond || d.PollInterval > time.Minute {
		return errorf("database.poll_interval: %s is not between 100ms and 1m", d.PollInterval)
	}
	return nil
}

func checkDatabaseURL(key, raw string) error {
	if raw == "" {
		return nil
	}
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		if _, err := url.Parse(raw); err != nil {
			return errorf("%s: %q is not a valid URL", key, redactURL(raw))
		}
		return nil
	}
	if !strings.Contains(raw, "=") {
		return errorf("%s: %q is not a postgres:// URL or a key=value connection string", key, redactURL(raw))
	}
	return nil
}

func (c *Config) validateNetwork() error {
	n := c.Network
	if n.ListenHost == "" {
		return errorf("network.listen_host: must not be empty (127.0.0.1 for loopback, 0.0.0.0 for all)")
	}
	if n.ListenPort < 0 || n.ListenPort > 65535 {
		return errorf("network.listen_port: %d is not a port (0-65535)", n.ListenPort)
	}
	for _, t := range n.Trackers {
		if err := checkURL(t, "http", "https", "udp", "ws", "wss"); err != nil {
			return errorf("network.trackers: %q %s", t, err)
		}
	}
	if n.UploadRate < 0 {
		return errorf("network.upload_rate: %d must not be negative", n.UploadRate)
	}
	if n.DownloadRate < 0 {
		return errorf("network.download_rate: %d must not be negative", n.DownloadRate)
	}
	if n.MaxConnsPerTorrent < 1 {
		return errorf("network.max_conns_per_torrent: %d must be at least 1", n.MaxConnsPerTorrent)
	}
	if n.MaxHalfOpen < 1 {
		return errorf("network.max_half_open: %d must be at least 1", n.MaxHalfOpen)
	}
	if err := c.validateNetPolicy(); err != nil {
		return err
	}
	return c.validateAltSpeed()
}

func (c *Config) validateNetPolicy() error {
	n := c.Network
	if n.AnnounceIP != "" && net.ParseIP(n.AnnounceIP) == nil {
		return errorf("network.announce_ip: %q is not an IP address", n.AnnounceIP)
	}
	if n.MaxConnsTotal < 0 {
		return errorf("network.max_conns_total: %d must not be negative", n.MaxConnsTotal)
	}
	if !slices.Contains([]string{"prefer", "require", "plaintext"}, n.Encryption) {
		return errorf("network.encryption: %q is not one of prefer, require, plaintext", n.Encryption)
	}
	if n.BlocklistFile != "" && !filepath.IsAbs(n.BlocklistFile) {
		return errorf("network.blocklist_file: %q must be an absolute path", n.BlocklistFile)
	}
	return nil
}

func (c *Config) validateAltSpeed() error {
	n := c.Network
	if _, err := time.LoadLocation(n.AltSpeedTimezone); err != nil || n.AltSpeedTimezone == "" {
		return errorf("network.alt_speed_timezone: %q is not a time zone (like Local, UTC, Europe/Berlin)", n.AltSpeedTimezone)
	}
	for _, s := range n.AltSpeedSchedules {
		if _, err := ParseSchedule(s); err != nil {
			return errorf("network.alt_speed_schedules: %v", err)
		}
	}
	switch {
	case n.AltSpeedDuration <= 0:
		return errorf("network.alt_speed_duration: %s must be positive", n.AltSpeedDuration)
	case n.AltUploadRate < 0:
		return errorf("network.alt_upload_rate: %d must not be negative", n.AltUploadRate)
	case n.AltDownloadRate < 0:
		return errorf("network.alt_download_rate: %d must not be negative", n.AltDownloadRate)
	}
	return nil
}

// ParseSchedule parses a cron expression the way every schedule of the
// configuration is read: 5 fields or a descriptor, no TZ= (the time zone
// is a key of its own).
func ParseSchedule(s string) (cron.Schedule, error) {
	if strings.Contains(s, "TZ=") {
		return nil, fmt.Errorf("%q: set the time zone key instead of TZ= in the expression", s)
	}
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sc, err := parser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron expression (5 fields, or @daily, @every 6h...): %v", s, err)
	}
	return sc, nil
}

func (c *Config) validateSeeder() error {
	s := c.Seeder
	if s.CommitInterval <= 0 || s.CommitInterval > time.Minute {
		return errorf("seeder.commit_interval: %s must be between 1ms and 1m", s.CommitInterval)
	}
	if s.MaxPendingPieces < 1 {
		return errorf("seeder.max_pending_pieces: %d must be at least 1", s.MaxPendingPieces)
	}
	if s.MaxUnverified < 0 {
		return errorf("seeder.max_unverified: %s must not be negative", s.MaxUnverified)
	}
	if s.ReconcileInterval < time.Second {
		return errorf("seeder.reconcile_interval: %s must be at least 1s", s.ReconcileInterval)
	}
	return nil
}

func (c *Config) validateVerify() error {
	v := c.Verify
	_, err := time.LoadLocation(v.Timezone)
	if err != nil || v.Timezone == "" {
		return errorf("verify.timezone: %q is not a time zone (like Local, UTC, Europe/Berlin)", v.Timezone)
	}
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for _, s := range v.Schedules {
		if strings.Contains(s, "TZ=") {
			return errorf("verify.schedules: %q: set verify.timezone instead of TZ= in the expression", s)
		}
		if _, err := parser.Parse(s); err != nil {
			return errorf("verify.schedules: %q is not a cron expression (5 fields, or @daily, @every 6h...): %v", s, err)
		}
	}
	switch {
	case v.MaxRun < 0:
		return errorf("verify.max_run: %s must not be negative", v.MaxRun)
	case v.Rate < 0:
		return errorf("verify.rate: %d must not be negative", v.Rate)
	case v.Interval <= 0:
		return errorf("verify.interval: %s must be positive", v.Interval)
	case v.RangeBytes < MiB:
		return errorf("verify.range_bytes: %s must be at least 1MiB", v.RangeBytes)
	case v.Workers < 0:
		return errorf("verify.workers: %d must not be negative (0 = number of CPUs)", v.Workers)
	case !(v.MassFailureRatio > 0 && v.MassFailureRatio <= 1):
		return errorf("verify.mass_failure_ratio: %v must be above 0 and at most 1", v.MassFailureRatio)
	}
	if v.WebhookURL != "" {
		if err := checkURL(v.WebhookURL, "http", "https"); err != nil {
			return errorf("verify.webhook_url: %q %s", redactURL(v.WebhookURL), err)
		}
	}
	if v.WebhookSecretFile != "" && v.WebhookURL == "" {
		return errorf("verify.webhook_secret_file: %q is set but verify.webhook_url is empty", v.WebhookSecretFile)
	}
	return nil
}

func (c *Config) validateHTTP() error {
	h := c.HTTP
	if (h.TLSCert == "") != (h.TLSKey == "") {
		return errorf("http.tls_cert, http.tls_key: set both or neither")
	}
	if h.Listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(h.Listen)
	if err != nil {
		return errorf("http.listen: %q is not host:port (like 127.0.0.1:8571)", h.Listen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return errorf("http.listen: %q: port %q is not a port (0-65535)", h.Listen, port)
	}
	if !loopback.Host(host) && h.TokenFile == "" {
		return errorf("http.listen: %q is not loopback: set http.token_file", h.Listen)
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return &configError{msg: "is not a URL"}
	}
	if !slices.Contains(schemes, u.Scheme) {
		return &configError{msg: "has scheme " + strconv.Quote(u.Scheme) + ", want one of " + strings.Join(schemes, ", ")}
	}
	return nil
}
