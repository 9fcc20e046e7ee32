package seeder

import (
	"testing"
	"time"

	"github.com/anacrolix/torrent"

	"github.com/archivd/archivd/internal/testutil"
)

// TestStalledConnectionIsClosedAndDialledAgain: a connection to a peer
// holding pieces the torrent wants, on which nothing was written (or
// nothing read) for the given time, is closed and the peer dialled again;
// a connection of a torrent that wants nothing is left alone. A writer
// that missed its wake-up cannot be made from outside the engine, and
// this engine writes a keepalive every writerWakeBound: waiting for a real
// quiet span longer than the limit raced the keepalive (CI timed out after
// 30 s). So the watch reads the connection twice in a row and the second
// read is told that the limit has passed: a connection that wrote (or
// read) nothing between the two reads is quiet that long as far as the
// watch can tell.
func TestStalledConnectionIsClosedAndDialledAgain(t *testing.T) {
	for name, lim := range map[string]stallLimits{
		"nothing written": {write: time.Second, read: time.Hour},
		"nothing read":    {write: time.Hour, read: time.Second},
	} {
		t.Run(name, func(t *testing.T) { testStalledConnection(t, lim) })
	}
}

func testStalledConnection(t *testing.T, lim stallLimits) {
	peer, mi := holdingPeer(t)
	at := downloadFrom(t, mi, peer)
	testutil.Eventually(t, 10*time.Second, "a connection to the peer", func() bool { return len(at.PeerConns()) == 1 })
	old := at.PeerConns()[0]
	w := newStallWatch()
	var closed []stalledConn
	skip := 2 * min(lim.write, lim.read)
	testutil.Eventually(t, 30*time.Second, "the quiet connection closed", func() bool {
		now := time.Now()
		if closed = redialStalled([]*torrent.Torrent{at}, w, now, lim); len(closed) > 0 {
			return true
		}
		closed = redialStalled([]*torrent.Torrent{at}, w, now.Add(skip), lim)
		return len(closed) > 0
	})
	if len(closed) != 1 || closed[0].t != at || closed[0].addr != old.RemoteAddr.String() {
		t.Fatalf("closed %+v, want the connection to %v", closed, old.RemoteAddr)
	}
	testutil.Eventually(t, 10*time.Second, "the old connection gone", func() bool { return len(at.PeerConns()) == 0 })
	redialStalled(nil, w, time.Now(), lim) // the next call dials the peer again
	testutil.Eventually(t, 10*time.Second, "a new connection to the peer", func() bool {
		pcs := at.PeerConns()
		return len(pcs) == 1 && pcs[0] != old
	})
	// The peer's side: complete, it wants nothing, however quiet.
	pw := newStallWatch()
	for i := range 3 {
		if c := redialStalled(peer.Torrents(), pw, time.Now().Add(time.Duration(i)*time.Hour), stallLimits{time.Nanosecond, time.Nanosecond}); len(c) != 0 {
			t.Fatalf("a connection of a complete torrent closed: %+v", c)
		}
	}
}
