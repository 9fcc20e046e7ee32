package daemon

import (
	"context"
	"os"
	"time"

	"github.com/archivd/archivd/internal/config"
	"github.com/coreos/go-systemd/v22/daemon"
)

// notify tells systemd about state changes (no-op outside systemd).
func notify(state string) { _, _ = daemon.SdNotify(false, state) }

// watchdog pings systemd's watchdog at half its interval, but only after a
// real health check passed: the catalog answers and the engine runs. A hung
// daemon thus stops pinging and systemd restarts it.
func (d *Daemon) watchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.healthy(ctx, interval/4); err != nil {
				d.log.Warn().Err(err).Msg("health check failed: not pinging the systemd watchdog")
				continue
			}
			notify("WATCHDOG=1")
		}
	}
}

func (d *Daemon) healthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := d.DB.Pool.Ping(ctx); err != nil {
		return err
	}
	return d.live.EngineAlive()
}

// reloadLoop re-reads the configuration on SIGHUP. An invalid file is
// rejected with a log line and the running configuration is kept.
func (d *Daemon) reloadLoop(ctx context.Context, hup <-chan os.Signal, reload func() (*config.Config, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			d.reload(ctx, reload)
		}
	}
}
