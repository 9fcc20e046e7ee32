package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixedLive is a Live with numbers the test sets: the HTTP layer only
// reads the interface, so fixed numbers exercise it fully.
type fixedLive struct {
	mu        sync.Mutex
	dead      error
	up, down  int64
	peers     int
	perTorrnt []httpapi.TorrentLive
	// transfer, if set, gives the totals at the moment they are read.
	transfer func() (up, down int64)
}

func (l *fixedLive) EngineAlive() error { l.mu.Lock(); defer l.mu.Unlock(); return l.dead }
func (l *fixedLive) Transfer() (int64, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.transfer != nil {
		return l.transfer()
	}
	return l.up, l.down
}

// PendingCompletions: the daemon's seeder reports its uncommitted piece
// states; the fixed engine has 7.
func (l *fixedLive) PendingCompletions() int { return 7 }

func (l *fixedLive) Peers() int { l.mu.Lock(); defer l.mu.Unlock(); return l.peers }
func (l *fixedLive) PerTorrent() []httpapi.TorrentLive {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perTorrnt
}
func (l *fixedLive) set(up, down int64) { l.mu.Lock(); l.up, l.down = up, down; l.mu.Unlock() }
func (l *fixedLive) kill(err error)     { l.mu.Lock(); l.dead = err; l.mu.Unlock() }

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
}

// start runs a server for o on 127.0.0.1 until the test ends and checks
// that Run returns cleanly.
func start(t *testing.T, o httpapi.Options) *httpapi.Server {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Version == "" {
		o.Version = "test-1.2.3"
	}
	o.Logger = testLogger(t)
	s, err := httpapi.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of cancel")
		}
	})
	return s
}

// get fetches url with an optional bearer token and returns status and body.
func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// seeded is what seed put in the catalog.
type seeded struct {
	active, paused, gone catalog.Torrent
	runID, findingID     int64
	finishedAt           time.Time
}

// seed stores a collection "maps" with three torrents (active, paused,
// unavailable), a finished scrub run and one open finding on the active
// torrent, plus a repaired finding that must not count as open.
func seed(t *testing.T, db *catalog.DB) seeded {
	t.Helper()
	ctx := context.Background()
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "maps", Description: "OpenStreetMap extracts"}); err != nil {
		t.Fatal(err)
	}
	var s seeded
	s.active = addTorrent(t, db, "maps", 1, "planet-2026.osm.pbf", 40)
	s.paused = addTorrent(t, db, "maps", 2, "europe.osm.pbf", 8)
	s.gone = addTorrent(t, db, "maps", 3, "africa.osm.pbf", 4)
	must(t, db.SetTorrentState(ctx, s.paused.ID, "paused"))
	must(t, db.SetAvailability(ctx, s.gone.ID, catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: catalog.CauseDataMissing, Reason: "data directory missing"}))
	s.finishedAt = time.Date(2026, 11, 20, 3, 4, 5, 0, time.UTC)
	s.runID = pgtest.Int(t, db, `INSERT INTO verify_runs (kind, state, started_at, finished_at, bytes_planned,
		bytes_hashed, pieces_checked, pieces_failed, pieces_repaired)
		VALUES ('scheduled', 'done', $1, $2, 10485760, 10485760, 40, 2, 1) RETURNING id`,
		s.finishedAt.Add(-time.Minute), s.finishedAt)
	s.findingID = pgtest.Int(t, db, `INSERT INTO findings (run_id, torrent_id, piece, file_index, file_path, kind, detail)
		VALUES ($1, $2, 7, 0, 'planet-2026.osm.pbf', 'hash_mismatch', 'sha1 differs') RETURNING id`,
		s.runID, s.active.ID)
	pgtest.Exec(t, db, `INSERT INTO findings (run_id, torrent_id, piece, kind, state, repaired_at)
		VALUES ($1, $2, 9, 'hash_mismatch', 'repaired', now())`, s.runID, s.active.ID)
	return s
}

func addTorrent(t *testing.T, db *catalog.DB, coll string, b byte, name string, pieces int) catalog.Torrent {
	t.Helper()
	var ih [20]byte
	for i := range ih {
		ih[i] = b
	}
	tr, err := db.AddTorrent(context.Background(), catalog.NewTorrent{
		Collection: coll, InfoHash: ih, Name: name, Metainfo: []byte("d4:infode"),
		PieceLength: 1 << 18, PieceCount: pieces, TotalLength: int64(pieces) << 18, DataDir: "/data/" + name,
		Files: []catalog.File{{Index: 0, Path: name, Length: int64(pieces) << 18}}, Verified: true,
	})
	must(t, err)
	return tr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var errEngineStopped = errors.New("engine stopped")
