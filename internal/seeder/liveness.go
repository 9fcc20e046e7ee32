package seeder

import (
	"context"
	"time"

	"github.com/anacrolix/torrent/metainfo"
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
	beat := s.engineBeat
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
		// A large add holds the lock for long (largeLoop): it sets
		// largeAdding, then clears this beat, so whichever comes first the
		// probe does not count as hung while it waits for that add.
		if s.largeAdding.Load() {
			continue
		}
		s.client.Torrent(metainfo.Hash{}) // takes the engine's lock; no list of every torrent
	}
}
