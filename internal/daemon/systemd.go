package daemon

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/config"
	"github.com/coreos/go-systemd/v22/daemon"
)

// notify tells systemd about state changes (no-op outside systemd).
func notify(state string) { _, _ = daemon.SdNotify(false, state) }

// watchdog pings systemd's watchdog at a third of its interval while the
// daemon itself is alive: every loop and the engine probe beat (see
// internal/heartbeat) and the engine runs. The catalog plays no part: a
// database outage or failover leaves the loops waiting in their backoff,
// which is alive, and the daemon keeps seeding. A hung loop or a
// deadlocked engine stops the pings, and systemd restarts the daemon.
func (d *Daemon) watchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 3)
	defer t.Stop()
	var stopped string // why pings stopped; logged once per change
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		why := d.hung()
		if why != stopped {
			if why != "" {
				d.log.Error().Str("why", why).Msg("daemon hung: not pinging the systemd watchdog")
			} else {
				d.log.Info().Msg("daemon alive again: pinging the systemd watchdog")
			}
			stopped = why
		}
		if why == "" {
			notify("WATCHDOG=1")
		}
	}
}

// hung says why the daemon is not alive ("" = alive).
func (d *Daemon) hung() string {
	if stale := d.beats.Stale(time.Now()); len(stale) > 0 {
		return "no heartbeat from " + strings.Join(stale, ", ")
	}
	if err := d.live.alive(); err != nil {
		return err.Error()
	}
	return ""
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
