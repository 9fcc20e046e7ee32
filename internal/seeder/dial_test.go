package seeder

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	alog "github.com/anacrolix/log"
	"github.com/anacrolix/torrent"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// peerSockets is a peer listening on TCP and uTP at one loopback port,
// accepting and holding every connection until the test ends.
func peerSockets(t *testing.T) (addr string, tcp net.Listener) {
	t.Helper()
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	us, err := torrent.NewUtpSocket("udp4", tl.Addr().String(), nil, alog.Logger{})
	if err != nil {
		t.Fatalf("uTP listen on %s: %v", tl.Addr(), err)
	}
	t.Cleanup(func() { tl.Close(); us.Close() })
	for _, accept := range []func() (net.Conn, error){tl.Accept, us.Accept} {
		go func() {
			for {
				c, err := accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
	}
	return tl.Addr().String(), tl
}

// dialPair dials addr over TCP and uTP at once, as the engine does, with
// a head start for TCP longer than the test's deadline: a uTP dial that
// waited the whole head start would fail with the deadline.
func dialPair(t *testing.T, addr string) (utpConn net.Conn, tcpErr, utpErr error) {
	t.Helper()
	cs, err := torrent.NewUtpSocket("udp4", "127.0.0.1:0", nil, alog.Logger{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	race := &dialRace{attempts: map[string]*dialAttempt{}}
	tcp := tcpDialer{torrent.NetworkDialer{Network: "tcp4", Dialer: &net.Dialer{}}, race}
	utp := utpDialer{torrent.NetworkDialer{Network: "udp4", Dialer: cs}, race, time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		c, err := tcp.Dial(ctx, addr)
		if c != nil {
			c.Close()
		}
		done <- err
	}()
	utpConn, utpErr = utp.Dial(ctx, addr)
	tcpErr = <-done
	if utpConn != nil {
		t.Cleanup(func() { utpConn.Close() })
	}
	if len(race.attempts) != 0 {
		t.Fatalf("dial race entries left after both dials: %d", len(race.attempts))
	}
	return utpConn, tcpErr, utpErr
}

func TestUTPDialSkippedWhenTCPConnects(t *testing.T) {
	addr, _ := peerSockets(t)
	_, tcpErr, utpErr := dialPair(t, addr)
	if tcpErr != nil {
		t.Fatalf("TCP dial: %v", tcpErr)
	}
	if !errors.Is(utpErr, errTCPConnected) {
		t.Fatalf("uTP dial: got %v, want it skipped because TCP connected", utpErr)
	}
}

func TestUTPDialGoesAheadWhenTCPFails(t *testing.T) {
	addr, tl := peerSockets(t)
	tl.Close() // the peer speaks uTP only
	c, tcpErr, utpErr := dialPair(t, addr)
	if tcpErr == nil {
		t.Fatal("TCP dial to a closed port connected")
	}
	if utpErr != nil || c == nil {
		t.Fatalf("uTP dial after TCP failed: %v (it must not wait out the head start)", utpErr)
	}
}

// TestDownloadsUseTCP: node B fetches eight small torrents from node A,
// one outgoing dial each; every connection B keeps to A is TCP. Without
// the head start the engine's race lets uTP win a share of them
// (docs/BENCHMARKS.md, "Repair source": 1-3 of 8 downloads).
func TestDownloadsUseTCP(t *testing.T) {
	dbA, dbB := openDB(t, pgtest.URL(t)), openDB(t, pgtest.URL(t))
	var rowsB []catalog.Torrent
	var rowsA []catalog.Torrent
	for i := range 8 {
		src := filepath.Join(t.TempDir(), fmt.Sprintf("ds%d", i))
		writeData(t, src, uint64(100+i), map[string]int64{"f.bin": 1 << 20})
		tf := makeTorrent(t, src, 256<<10)
		rowsA = append(rowsA, addTorrent(t, dbA, tf, src, true))
		rowsB = append(rowsB, addTorrent(t, dbB, tf, filepath.Join(t.TempDir(), "data"), false))
	}
	a := start(t, testConfig(t, "A"), dbA)
	testutil.Eventually(t, 30*time.Second, "A seeding", func() bool { return a.Status().Seeding == len(rowsA) })
	for _, r := range rowsB {
		seedPeer(t, dbB, r.ID, a.ListenAddr())
	}
	b := start(t, testConfig(t, "B"), dbB)
	testutil.Eventually(t, time.Minute, "B complete", func() bool {
		for _, r := range rowsB {
			if completeInCatalog(t, dbB, r) != r.PieceCount {
				return false
			}
		}
		return true
	})
	var nets []string
	for _, tor := range b.client.Torrents() {
		for _, pc := range tor.PeerConns() {
			nets = append(nets, pc.Network)
			if !strings.HasPrefix(pc.Network, "tcp") {
				t.Errorf("torrent %s: connection to %v over %s, want TCP", tor.InfoHash().HexString(), pc.RemoteAddr, pc.Network)
			}
		}
	}
	if len(nets) < len(rowsB) {
		t.Fatalf("B holds %d connections for %d torrents: %v", len(nets), len(rowsB), nets)
	}
}
