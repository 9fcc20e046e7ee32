package daemon

import (
	"context"
	"strings"

	"github.com/archivd/archivd/internal/config"
)

// liveKeys are the settings a reload applies at once (a key, or a prefix
// ending in "."). Every other changed key is named in one log line as
// taking effect at the next start.
var liveKeys = []string{
	"log.level",
	"network.upload_rate", "network.download_rate", "network.max_conns_per_torrent", "network.alt_",
	"network.max_conns_total", "network.blocklist_file",
	"verify.", "http.token_file", "prune_collections",
	"node.",   // nodeInfo reads the config in force at every heartbeat
	"fleet.",  // the planner reads it at every pass
	"health.", // the health evaluator gets it in applyLive
}

func isLive(key string) bool {
	for _, k := range liveKeys {
		if key == k || (strings.HasSuffix(k, ".") || strings.HasSuffix(k, "_")) && strings.HasPrefix(key, k) {
			return true
		}
	}
	return false
}

// reload applies a new configuration: collections, log level, network
// limits and their schedule, the verify policy (the verify service is
// restarted with it) and the HTTP token. An invalid file, or a part that
// refuses its new settings, keeps the running configuration of that part.
func (d *Daemon) reload(ctx context.Context, load func() (*config.Config, error)) {
	if load == nil {
		d.log.Warn().Msg("reload: no configuration file to reload")
		return
	}
	d.Verify.RecheckNow() // an operator who mounted a disk again may send SIGHUP
	notify("RELOADING=1")
	defer notify("READY=1")
	cfg, err := load()
	if err != nil {
		d.log.Error().Err(err).Msg("reload: new configuration rejected, keeping the running one")
		return
	}
	old := d.cfg.Load()
	changed := config.Changed(old, cfg)
	var live, restart []string
	for _, k := range changed {
		if isLive(k) {
			live = append(live, k)
		} else {
			restart = append(restart, k)
		}
	}
	d.applyLive(ctx, old, cfg)
	d.log.Info().Strs("applied", live).Msg("reload: configuration reloaded")
	if len(restart) > 0 {
		d.log.Warn().Strs("keys", restart).Msg("reload: these settings take effect at the next start (archivd keeps the running values)")
	}
	if err := reconcileCollections(ctx, d.DB, cfg, d.log); err != nil {
		d.log.Error().Err(err).Msg("reload: apply config collections")
	}
}

// applyLive stores cfg as the configuration in force and hands each part
// its new settings.
func (d *Daemon) applyLive(ctx context.Context, old, cfg *config.Config) {
	if d.logLevel != nil {
		if err := d.logLevel.Set(cfg.Log.Level); err != nil {
			d.log.Error().Err(err).Msg("reload: log level")
		}
	}
	if d.HTTP != nil {
		if err := d.HTTP.SetTokenFile(cfg.HTTP.TokenFile); err != nil {
			d.log.Error().Err(err).Msg("reload: http token kept")
			cfg.HTTP.TokenFile = old.HTTP.TokenFile
		}
	}
	if err := d.blocklist.Load(cfg.Network.BlocklistFile); err != nil { // re-read even if unchanged
		d.log.Error().Err(err).Msg("reload: blocklist kept")
		cfg.Network.BlocklistFile = old.Network.BlocklistFile
	} else if n := d.blocklist.NumRanges(); cfg.Network.BlocklistFile != "" {
		d.log.Info().Int("ranges", n).Str("file", cfg.Network.BlocklistFile).Msg("reload: blocklist loaded")
	}
	if len(config.Changed(&config.Config{Verify: old.Verify}, &config.Config{Verify: cfg.Verify})) > 0 {
		if err := d.restartVerify(ctx, cfg); err != nil {
			d.log.Error().Err(err).Msg("reload: verify settings rejected, keeping the running ones")
			cfg.Verify = old.Verify
		}
	}
	d.cfg.Store(cfg)
	d.health.SetConfig(HealthConfig(cfg, d.cli))                      // verify interval and schedules, data_dir, health.*
	for _, wake := range []chan struct{}{d.speedWake, d.intakeWake} { // they read d.cfg
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}
