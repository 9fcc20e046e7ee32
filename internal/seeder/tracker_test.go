package seeder

import (
	"context"
	"expvar"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// TestConfigTrackerFindsPeer: with no remembered peer, B finds A through
// the extra tracker of the configuration (on loopback) and downloads.
func TestConfigTrackerFindsPeer(t *testing.T) {
	p := seedThroughTracker(t, 51)
	p.startB(t)
	p.waitB(t, 30*time.Second)
}

// trackerPair is seed A, seeding one torrent it announced to a tracker on
// loopback, and B, which knows of no peer and only of that tracker.
type trackerPair struct {
	dbB  *catalog.DB
	a    *running
	tf   *torrentfile.Torrent
	src  string
	cfgB Config
	rowB catalog.Torrent
	dirB string
}

func seedThroughTracker(t *testing.T, seed uint64) *trackerPair {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	tf, src := smallTorrent(t, t.TempDir(), "ds", seed)
	tracker := testutil.StartTracker(t, tf.InfoHash)
	rowA := addTorrent(t, dbA, tf, src, true)
	cfgA, cfgB := testConfig(t, "A"), testConfig(t, "B")
	cfgA.Trackers, cfgB.Trackers = []string{tracker.URL}, []string{tracker.URL}
	a := start(t, cfgA, dbA)
	testutil.Eventually(t, 10*time.Second, "A seeding", inEngine(a, rowA.InfoHash))
	tracker.WaitSeeders(t, tf.InfoHash, 1, 30*time.Second) // A announced first: it never hears of B
	return &trackerPair{dbB: dbB, a: a, tf: tf, src: src, cfgB: cfgB}
}

// startB adds the torrent to B without its data and starts B.
func (p *trackerPair) startB(t *testing.T) {
	p.dirB = filepath.Join(t.TempDir(), "ds")
	p.rowB = addTorrent(t, p.dbB, p.tf, p.dirB, false)
	start(t, p.cfgB, p.dbB)
}

// waitB waits until B has every piece and its files are A's.
func (p *trackerPair) waitB(t *testing.T, within time.Duration) {
	testutil.Eventually(t, within, "B complete", func() bool { return completeInCatalog(t, p.dbB, p.rowB) == p.tf.PieceCount })
	sameFiles(t, p.tf, p.src, p.dirB)
}

// TestStarvingDownloadAnnouncesAgain: B finds seed A through the tracker
// while A, at its download cap, refuses every connection (the engine
// takes none while the download limiter is empty); B's engine forgets A
// and would ask the tracker again only after its interval (30 min). The
// seeder's own announce of a torrent with no peer finds A again within a
// minute and B completes.
func TestStarvingDownloadAnnouncesAgain(t *testing.T) {
	p := seedThroughTracker(t, 52)
	a := p.a
	a.SetLimits(Limits{DownloadRate: 1 << 20})

	// Keep A's download limiter empty until A has refused a connection.
	rejected := func() int64 {
		if v, ok := expvar.Get("torrent").(*expvar.Map).Get("rejected accepted connections").(*expvar.Int); ok {
			return v.Value()
		}
		return 0
	}
	before := rejected()
	ctx, stopDrain := context.WithCancel(context.Background())
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for ctx.Err() == nil {
			// 4 MiB in debt: a 4 s scheduling stall would be needed for
			// A to take a connection meanwhile (a shared, loaded machine).
			if a.lim.down.Tokens() > -(4 << 20) {
				a.lim.down.ReserveN(time.Now(), 1<<20)
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { stopDrain(); <-drained }()

	p.startB(t)
	testutil.Eventually(t, time.Minute, "A refusing B's connection", func() bool { return rejected() > before })
	stopDrain()
	<-drained
	p.waitB(t, 2*time.Minute)
}
