package store

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// ownServer starts a private PostgreSQL cluster this test may stop.
func ownServer(t *testing.T) (*pgserver.Server, pgserver.Options, *catalog.DB) {
	t.Helper()
	srv, opts, url := pgtest.Own(t)
	db, err := catalog.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return srv, opts, db
}

// TestOutageKeepsSeedingAndCatchesUp stops PostgreSQL, downloads a whole
// torrent meanwhile (completions held in memory, health degraded), marks
// a piece not complete (refused writes until durable), restarts
// PostgreSQL and checks that the catalog catches up and agrees with disk.
func TestOutageKeepsSeedingAndCatchesUp(t *testing.T) {
	srv, opts, db := ownServer(t)
	ctx := context.Background()
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "outage", multiFileSizes, dl)
	n := f.info.NumPieces()
	lines := &logLines{}
	log := zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), lines)).Level(zerolog.InfoLevel)
	s, err := New(Options{DB: db, Logger: log, CommitInterval: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runStore(t, s)
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	seeder := newSeeder(t, f)
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	cl := newClient(t, s.ClientImpl())
	tt, err := cl.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	tt.DownloadAll()
	addPeer(tt, seeder)
	waitComplete(t, tt, 60*time.Second, seeder)
	testutil.Eventually(t, 10*time.Second, "degraded health", func() bool { h := s.Health(); return !h.DBOK && h.Pending == n })
	if h := s.Health(); h.LastError == "" {
		t.Error("degraded health without an error")
	}
	const bad = 2
	// Once a commit of piece bad was attempted, the catalog may record it
	// complete: from then on it must not be rewritten before a durable
	// not-complete record.
	testutil.Eventually(t, 10*time.Second, "commit attempt of the downloaded pieces", func() bool { return s.torrent(f.ih).mayBeDBComplete(bad) })
	if err := s.MarkNotComplete(ctx, f.ih, []int{bad}); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("MarkNotComplete during the outage: got %v, want ErrNotDurable", err)
	}
	ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ti.PieceWithHash(f.info.Piece(bad), nullHash()).WriteAt([]byte{1}, 0); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("write to a piece whose not-complete state is not durable: got %v, want ErrNotDurable", err)
	}

	if _, err := pgserver.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "pending states committed", func() bool { h := s.Health(); return h.DBOK && h.Pending == 0 })
	ps := loadPieces(t, db, f)
	if ps.Known.Count(n) != n || ps.Complete.Count(n) != n-1 || ps.Complete.Get(bad) {
		t.Fatalf("after the outage: %d known, %d complete, piece %d complete=%v; want %d known, %d complete, not %d",
			ps.Known.Count(n), ps.Complete.Count(n), bad, ps.Complete.Get(bad), n, n-1, bad)
	}
	checkCatalogAgainstDisk(t, db, f, dl)
	// Dozens of failed commits (100ms apart at most): one line down, one back.
	if down, up := lines.count("group commit failed"), lines.count("group commit works again"); down != 1 || up != 1 {
		t.Errorf("outage logged %d times down and %d times back, want once each", down, up)
	}

	// Durable now: the piece may be fetched again.
	tt.Piece(bad).UpdateCompletion()
	waitPiece(t, tt, bad, 20*time.Second, seeder)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if c := checkCatalogAgainstDisk(t, db, f, dl); c != n {
		t.Fatalf("catalog records %d of %d pieces complete", c, n)
	}
	sameFiles(t, f, dl)
}

// TestMaxPendingRefusesCompletionsBeyondLimit: with the catalog gone and
// MaxPending completions waiting, the next completion is refused and the
// piece reads back as unknown (hashed before it is trusted).
func TestMaxPendingRefusesCompletionsBeyondLimit(t *testing.T) {
	db := pgtest.New(t)
	f := makeTorrent(t, db, "full", multiFileSizes, filepath.Join(t.TempDir(), "d"))
	s, err := New(Options{DB: db, Logger: testLogger(t), MaxPending: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ti, err := s.ClientImpl().OpenTorrent(context.Background(), &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 2; p++ {
		piece := ti.PieceWithHash(f.info.Piece(p), nullHash())
		if _, err := piece.WriteAt(make([]byte, 10), 0); err != nil {
			t.Fatal(err)
		}
		if err := piece.MarkComplete(); err != nil {
			t.Fatalf("piece %d: %v", p, err)
		}
	}
	third := ti.PieceWithHash(f.info.Piece(2), nullHash())
	if err := third.MarkComplete(); !errors.Is(err, ErrPendingFull) {
		t.Fatalf("third completion: got %v, want ErrPendingFull", err)
	}
	if c := third.Completion(); c.Ok {
		t.Fatalf("refused piece reads back as %+v, want unknown", c)
	}
	if c := ti.PieceWithHash(f.info.Piece(0), nullHash()).Completion(); !c.Ok || !c.Complete {
		t.Fatalf("pending piece reads back as %+v, want complete", c)
	}
	if err := s.Flush(context.Background()); err == nil {
		t.Fatal("flush with the catalog closed succeeded")
	}
	if h := s.Health(); h.DBOK || h.Pending != 2 {
		t.Fatalf("health %+v, want degraded with 2 pending", h)
	}
}

// logLines counts log lines containing a text.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logLines) count(text string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, text) {
			n++
		}
	}
	return n
}
