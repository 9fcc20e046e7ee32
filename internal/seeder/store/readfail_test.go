package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/storage"
)

// TestFailingPeerReadsSurviveADrop: a seeding torrent's files cut short (an
// operator's mistake, a failing disk) make the reads a leecher asks for
// fail. The engine (anacrolix/torrent v1.61.0) panics when such a read
// returns its error after the torrent was dropped meanwhile (a pause, a
// removal, the torrent made unavailable by the scrub that found the data
// bad): its servePeerRequest neither rejects nor keeps the request. Reads
// wait here in the recovery send limiter (as while another node recovers
// the torrent from this one), so drops land while reads are in flight;
// dropped and added again round after round, the engine must not go down.
func TestFailingPeerReadsSurviveADrop(t *testing.T) {
	t.Parallel()
	_, f, dl, s, tt := inPlace(t, "readfail")
	v, _ := clientOf.Load(tt)
	cl := v.(*torrent.Client)
	for _, fe := range f.fs {
		// Cut short, not deleted: the store's open handles would still
		// read a deleted file.
		if err := os.Truncate(filepath.Join(dl, filepath.FromSlash(fe.Path)), 0); err != nil {
			t.Fatal(err)
		}
	}
	s.SetRecoverySendRate(16 << 10)
	s.SetRecoverySending([]int64{f.cat.ID})
	s.waitLimiter(s.stopped, s.recoverySend, recoveryBurst) // the bucket empty: every read waits ~1 s

	leecher := newClient(t, storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: t.TempDir(), PieceCompletion: storage.NewMapPieceCompletion()}))
	lt, err := leecher.AddTorrent(f.mi)
	if err != nil {
		t.Fatal(err)
	}
	lt.DownloadAll()
	const rounds = 6
	for r := range rounds {
		sent := s.RecoveryBytesSent()
		deadline := time.Now().Add(10 * time.Second)
		for s.RecoveryBytesSent() == sent { // a read is waiting
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no peer read in 10 s", r)
			}
			addPeer(lt, cl)
			time.Sleep(10 * time.Millisecond)
		}
		tt.Drop()
		if tt, err = cl.AddTorrent(f.mi); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second) // the last reads end
}
