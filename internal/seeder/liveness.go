package seeder

import (
	"context"
	"time"
)

// loopWithin bounds how long a seeder loop may work between beats before
// the daemon counts it as hung and stops pinging the systemd watchdog.
const loopWithin = 2 * time.Minute

// engineProbeEvery is how often the engine probe takes the engine's lock.
const engineProbeEvery = time.Second

// engineProbe beats while the engine answers: it takes the client's lock
// every second. A deadlocked engine stops the beat, and the watchdog with
// it; the catalog plays no part.
func (s *Seeder) engineProbe(ctx context.Context) {
	beat := s.cfg.Heartbeats.Register("torrent engine", 30*time.Second)
	if beat == nil {
		return
	}
	t := time.NewTicker(engineProbeEvery)
	defer t.Stop()
	for {
		beat.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		beat.Beat()
		s.client.Torrents()
	}
}
