package seeder

import "github.com/archivd/archivd/internal/catalog"

// onChange turns catalog changes into reconcile requests: one torrent, or
// everything when a collection changed or the listener (re)connected
// (changes made meanwhile were not delivered).
func (s *Seeder) onChange(c catalog.Change) {
	switch {
	case c.Resync, c.Table == "collections":
		s.requestFull()
	case c.Table == "torrents":
		s.requestReconcile(c.ID)
	}
}

// Listening is closed once the seeder's catalog change listener is up:
// a change committed after that reaches the seeder.
func (s *Seeder) Listening() <-chan struct{} { return s.changes.Ready() }
