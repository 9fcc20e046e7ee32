package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

var multiFileSizes = []int{100_000, 5_000, 70_001, 1, 33_333, 0, 16 << 10}

// syncLog records, in one sequence, piece writes, file syncs and catalog
// writes, so a test can check their order.
type syncLog struct {
	mu        sync.Mutex
	seq       int
	lastWrite map[[2]int64]int // (torrent, piece) -> seq of its last write
	lastSync  map[string][]int // path -> seqs of syncs
	stores    int
	violation []string
}

func observe(s *Store, ts func(id int64) *torrentState) *syncLog {
	l := &syncLog{lastWrite: map[[2]int64]int{}, lastSync: map[string][]int{}}
	s.onWrite = func(id int64, p int) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.seq++
		l.lastWrite[[2]int64{id, int64(p)}] = l.seq
	}
	s.onSync = func(path string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.seq++
		l.lastSync[path] = append(l.lastSync[path], l.seq)
	}
	s.onStore = func(ups map[int64][]catalog.PieceUpdate) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.seq++
		l.stores++
		for id, us := range ups {
			st := ts(id)
			for _, u := range us {
				if u.Complete {
					l.checkLocked(st, u.Piece)
				}
			}
		}
	}
	return l
}

// checkLocked: every file of the piece was synced after the piece's last
// write and before now.
func (l *syncLog) checkLocked(st *torrentState, p int) {
	w := l.lastWrite[[2]int64{st.id, int64(p)}]
	for _, fe := range st.pieceFiles(p) {
		path := filepath.Join(st.dataDir, fe.rel)
		ok := false
		for _, s := range l.lastSync[path] {
			ok = ok || s > w
		}
		if !ok {
			l.violation = append(l.violation, path)
		}
	}
}

// TestTransferRecordsOnlySyncedVerifiedPieces downloads a multi-file
// torrent from a real peer into a Store-backed client and checks that the
// data is identical, that every piece recorded complete hashes on disk,
// and that no piece was recorded complete before its files were synced.
// It runs again with only 2 file descriptors allowed for 7 files, so that
// descriptors are closed and reopened under the engine's load.
func TestTransferRecordsOnlySyncedVerifiedPieces(t *testing.T) {
	t.Run("default", func(t *testing.T) { testTransfer(t, 0) })
	t.Run("2 open files", func(t *testing.T) { testTransfer(t, 2) })
}

func testTransfer(t *testing.T, maxOpen int) {
	db := pgtest.New(t)
	dl := filepath.Join(t.TempDir(), "dl")
	f := makeTorrent(t, db, "multi", multiFileSizes, dl)
	s := newStore(t, db)
	if maxOpen > 0 {
		s.files = newFDCache(maxOpen)
	}
	log := observe(s, func(id int64) *torrentState { return s.byIDForTest(id) })
	runStore(t, s)
	seeder := newSeeder(t, f)
	_, tt := addToEngine(t, s, f)
	tt.DownloadAll()
	addPeer(tt, seeder)
	waitComplete(t, tt, 60*time.Second, seeder)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, f, dl)
	if n := checkCatalogAgainstDisk(t, db, f, dl); n != f.info.NumPieces() {
		t.Fatalf("catalog records %d of %d pieces complete", n, f.info.NumPieces())
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.stores == 0 || len(log.lastWrite) != f.info.NumPieces() {
		t.Fatalf("observed %d catalog writes and writes to %d pieces, want >0 and %d", log.stores, len(log.lastWrite), f.info.NumPieces())
	}
	if len(log.violation) > 0 {
		t.Fatalf("pieces recorded complete before these files were synced: %v", log.violation)
	}
}
