package seeder

import (
	"bytes"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"golang.org/x/time/rate"

	"github.com/archivd/archivd/internal/testutil"
)

// TestEngineConnectionWriterWakesWithinTheBound: the engine's connection
// writer can miss a wake-up and then sleeps until its keepalive timer
// (writerWakeBound). A repair stalled that way on a loaded machine; the
// lost wake-up cannot be forced from outside the engine, the bound can be
// checked: archivd's engine wanting every piece of a peer that holds them
// and holds our requests (its upload limit is spent after one chunk), so
// that we have nothing more to say on that connection, writes again,
// twice, within a few bounds. With the engine's default keepalive (a
// minute) it does not.
func TestEngineConnectionWriterWakesWithinTheBound(t *testing.T) {
	peer, mi := holdingPeer(t)
	at := downloadFrom(t, mi, peer)
	testutil.Eventually(t, 10*time.Second, "a connection to the peer", func() bool { return len(at.PeerConns()) == 1 })
	pc := at.PeerConns()[0]
	written := func() int64 { st := pc.Stats(); return st.BytesWritten.Int64() }
	// The first messages (extended handshake, bitfield, interested,
	// requests) go at once; then the connection is quiet but for
	// keepalives (4 bytes).
	last, since := written(), time.Now()
	testutil.Eventually(t, 10*time.Second, "the connection's first messages written", func() bool {
		if w := written(); w != last {
			last, since = w, time.Now()
		}
		return time.Since(since) > writerWakeBound/2 // keepalives come every bound
	})
	testutil.Eventually(t, 30*writerWakeBound, "two more writes on the quiet connection", func() bool {
		return written() >= last+8
	})
}

// holdingPeer is a plain engine on loopback holding a small torrent's
// data that serves one chunk and then 1 byte/s: it holds our requests for
// hours.
func holdingPeer(t *testing.T) (*torrent.Client, *metainfo.MetaInfo) {
	t.Helper()
	tf, src := smallTorrent(t, t.TempDir(), "ka", 83)
	mi, err := metainfo.Load(bytes.NewReader(tf.Raw))
	if err != nil {
		t.Fatal(err)
	}
	pcfg := torrent.NewDefaultClientConfig()
	pcfg.DataDir = t.TempDir()
	pcfg.DefaultStorage = storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: filepath.Dir(src), PieceCompletion: storage.NewMapPieceCompletion()})
	pcfg.NoDHT, pcfg.DisablePEX, pcfg.NoDefaultPortForwarding = true, true, true
	pcfg.DisableTrackers, pcfg.DisableWebtorrent, pcfg.DisableWebseeds = true, true, true
	pcfg.DisableIPv6 = true
	pcfg.ListenHost = func(string) string { return "127.0.0.1" }
	pcfg.ListenPort = 0
	pcfg.Seed = true
	pcfg.UploadRateLimiter = rate.NewLimiter(1, 16<<10)
	peer, err := torrent.NewClient(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	pt, err := peer.AddTorrent(mi)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-pt.Complete().On():
	case <-time.After(30 * time.Second):
		t.Fatal("the peer did not verify its data in 30 s")
	}
	return peer, mi
}

// downloadFrom adds mi to a new engine configured as archivd's, with
// empty storage, every piece wanted, and peer as its peer.
func downloadFrom(t *testing.T, mi *metainfo.MetaInfo, peer *torrent.Client) *torrent.Torrent {
	t.Helper()
	cl, err := newClient(testConfig(t, "A"), storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: t.TempDir(), PieceCompletion: storage.NewMapPieceCompletion()}),
		newLimiters(0, 0), newPeerMemory(), newRepairSources(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	at, err := cl.AddTorrent(mi)
	if err != nil {
		t.Fatal(err)
	}
	at.DownloadAll()
	at.AddPeers([]torrent.PeerInfo{{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: peer.LocalPort()}, Trusted: true}})
	return at
}
