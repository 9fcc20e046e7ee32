package seeder

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// TestEngineStatesInCatalogWhileRunning: while the seeder runs, the
// catalog says which torrent seeds and which downloads; when the one
// downloading is paused its state goes; the seeder logs once that every
// torrent seeds; a clean stop clears the states.
func TestEngineStatesInCatalogWhileRunning(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, pgtest.URL(t))
	src := filepath.Join(t.TempDir(), "have")
	writeData(t, src, 3, map[string]int64{"f.bin": 100 << 10})
	have := addTorrent(t, db, makeTorrent(t, src, 16<<10), src, true)
	other := filepath.Join(t.TempDir(), "want")
	writeData(t, other, 4, map[string]int64{"g.bin": 100 << 10})
	want := addTorrent(t, db, makeTorrent(t, other, 16<<10), filepath.Join(t.TempDir(), "empty"), false)

	logs := &lockedBuffer{}
	cfg := testConfig(t, "A")
	cfg.Logger = zerolog.New(logs)
	s := start(t, cfg, db)
	states := func() map[int64]catalog.TorrentEngineState {
		st, err := db.EngineStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	testutil.Eventually(t, 20*time.Second, "engine states in the catalog", func() bool {
		st := states()
		return st[have.ID].State == catalog.EngineSeeding && st[want.ID].State == catalog.EngineDownloading
	})
	if st := states()[have.ID]; st.Node != "A" || st.NodeSeen == nil {
		t.Fatalf("state of the seeding torrent: %+v, want node A and when it was last seen", st)
	}
	if n := logs.count("every torrent is seeding"); n != 0 {
		t.Fatalf("'every torrent is seeding' logged %d times while one downloads", n)
	}
	if err := db.SetTorrentState(ctx, want.ID, catalog.TorrentPaused); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "the paused torrent's state gone", func() bool {
		_, ok := states()[want.ID]
		return !ok
	})
	testutil.Eventually(t, 20*time.Second, "'every torrent is seeding' logged", func() bool { return logs.count("every torrent is seeding") == 1 })
	// Not a wait for a state: the line must not come again over three
	// rounds of the stats loop's 1 s ticker, which counts its rounds
	// nowhere a test can read.
	time.Sleep(3 * stateInterval)
	if n := logs.count("every torrent is seeding"); n != 1 {
		t.Fatalf("'every torrent is seeding' logged %d times, want once", n)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if st := states(); len(st) != 0 {
		t.Fatalf("engine states after a clean stop: %+v", st)
	}
}
