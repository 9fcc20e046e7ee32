package daemon

import (
	"context"

	"github.com/archivd/archivd/internal/config"
)

// reload applies a new configuration. Settings that need the engine or the
// listeners rebuilt take effect at the next start; the log says so.
func (d *Daemon) reload(ctx context.Context, load func() (*config.Config, error)) {
	if load == nil {
		d.log.Warn().Msg("SIGHUP: no configuration file to reload")
		return
	}
	d.Verify.RecheckNow() // an operator who mounted a disk again may send SIGHUP
	notify("RELOADING=1")
	defer notify("READY=1")
	cfg, err := load()
	if err != nil {
		d.log.Error().Err(err).Msg("SIGHUP: new configuration rejected, keeping the running one")
		return
	}
	d.cfg.Store(cfg)
	d.log.Info().Msg("SIGHUP: configuration reloaded (collections applied now; network, database, verify and http settings at the next start)")
	if err := reconcileCollections(ctx, d.DB, cfg, d.log); err != nil {
		d.log.Error().Err(err).Msg("SIGHUP: apply config collections")
	}
}
