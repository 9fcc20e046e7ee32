package daemon

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/seeder"
	"github.com/robfig/cron/v3"
)

// maxWindowSteps bounds the walk over a schedule's activations inside one
// window (an "@every 1s" schedule with a long duration).
const maxWindowSteps = 100000

// spreadInterval: how often a total connection cap is shared out again.
const spreadInterval = 30 * time.Second

// speedState is what limits are in force and until when.
type speedState struct {
	limits seeder.Limits
	alt    bool
	// change: when the state changes next (a window opens or closes);
	// zero = never on its own.
	change time.Time
}

// speedAt computes the limits the network section asks for at now: the
// alternative rates inside a window of alt_speed_schedules, else the
// normal ones. The configuration is validated, so schedules parse.
func speedAt(n config.NetworkConfig, now time.Time) speedState {
	st := speedState{limits: seeder.Limits{UploadRate: int64(n.UploadRate), DownloadRate: int64(n.DownloadRate),
		MaxConnsPerTorrent: n.MaxConnsPerTorrent, MaxConnsTotal: n.MaxConnsTotal}}
	loc, err := time.LoadLocation(n.AltSpeedTimezone)
	if err != nil {
		loc = time.Local
	}
	now = now.In(loc)
	var end time.Time // latest end of a window open now
	for _, s := range n.AltSpeedSchedules {
		sc, err := config.ParseSchedule(s)
		if err != nil {
			continue
		}
		if e := windowEnd(sc, n.AltSpeedDuration, now); e.After(end) {
			end = e
		}
		if next := sc.Next(now); st.change.IsZero() || next.Before(st.change) {
			st.change = next
		}
	}
	if !end.IsZero() {
		st.alt, st.change = true, end
		st.limits.UploadRate, st.limits.DownloadRate = int64(n.AltUploadRate), int64(n.AltDownloadRate)
	}
	return st
}

// windowEnd is the end of the window of sc open at now, or zero: the last
// activation at or before now that started less than d ago.
func windowEnd(sc cron.Schedule, d time.Duration, now time.Time) time.Time {
	var end time.Time
	t := sc.Next(now.Add(-d).Add(-time.Second))
	for i := 0; i < maxWindowSteps && !t.IsZero() && !t.After(now); i++ {
		end = t.Add(d)
		t = sc.Next(t)
	}
	if !end.After(now) {
		return time.Time{}
	}
	return end
}

// speedLoop keeps the seeder's limits equal to what the configuration in
// force asks for now (network.*, fleet.recovery_rate and recovery_send_rate): at start, at every window boundary and on reload
// (wake). One log line per change of limits.
func (d *Daemon) speedLoop(ctx context.Context, wake <-chan struct{}) {
	var last *speedState
	for {
		cfg := d.Config()
		st := speedAt(cfg.Network, time.Now())
		st.limits.RecoveryRate = int64(cfg.Fleet.RecoveryRate) // no window changes them
		st.limits.RecoverySendRate = int64(cfg.Fleet.RecoverySendRate)
		if last == nil || st.limits != last.limits || st.alt != last.alt {
			d.Seeder.SetLimits(st.limits)
			ev := d.log.Info().Int64("upload_bytes_per_sec", st.limits.UploadRate).Int64("download_bytes_per_sec", st.limits.DownloadRate).
				Int64("recovery_bytes_per_sec", d.Seeder.Limits().RecoveryRate). // as the store's limiters have them
				Int64("recovery_send_bytes_per_sec", d.Seeder.Limits().RecoverySendRate).
				Int("max_conns_per_torrent", st.limits.MaxConnsPerTorrent).Int("max_conns_total", st.limits.MaxConnsTotal).Bool("alt_speed", st.alt)
			if !st.change.IsZero() {
				ev = ev.Time("until", st.change)
			}
			ev.Msg("network limits applied")
		}
		last = &st
		wait := time.Hour // re-checked hourly: the wall clock may jump
		if !st.change.IsZero() {
			wait = min(wait, max(time.Until(st.change), 0)+10*time.Millisecond)
		}
		if st.limits.MaxConnsTotal > 0 {
			d.Seeder.SpreadConns() // torrents come and go: their shares of the cap change
			wait = min(wait, spreadInterval)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}
