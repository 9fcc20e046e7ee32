package seeder

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

// TestStartedOnlyWhenCatalogTorrentsAreInTheEngine: Started (the daemon's
// READY=1) is closed after the first full reconcile, so at that moment
// every verified torrent of the catalog already seeds.
func TestStartedOnlyWhenCatalogTorrentsAreInTheEngine(t *testing.T) {
	db := openDB(t, pgtest.URL(t))
	const n = 30
	for i := range n {
		src := filepath.Join(t.TempDir(), fmt.Sprintf("ds%d", i))
		writeData(t, src, uint64(200+i), map[string]int64{"f.bin": 64 << 10})
		addTorrent(t, db, makeTorrent(t, src, 16<<10), src, true)
	}
	s := start(t, testConfig(t, "A"), db)
	select {
	case <-s.Started():
	case <-time.After(time.Minute):
		t.Fatal("Started not closed within a minute")
	}
	if st := s.Status(); st.Seeding != n {
		t.Fatalf("at Started %d torrents seed, want all %d", st.Seeding, n)
	}
}
