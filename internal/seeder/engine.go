package seeder

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/anacrolix/torrent"
	pp "github.com/anacrolix/torrent/peer_protocol"
	"github.com/anacrolix/torrent/storage"
)

// initialConnsPerTorrent is the engine's per-torrent connection limit
// from a torrent's add until addSources sets its own (connLimit).
const initialConnsPerTorrent = 4

// engineConnsPerTorrent is the engine's default per-torrent connection
// limit, the one a torrent gets when no limit is configured.
var engineConnsPerTorrent = torrent.NewDefaultClientConfig().EstablishedConnsPerTorrent

// newClient builds the engine. The storage is the crash-consistent store;
// nothing here serves HTTP (the storage package registers a handler on
// http.DefaultServeMux, which archivd never serves).
func newClient(cfg Config, st storage.ClientImpl, lim limiters, peers *peerMemory, sources *repairSources) (*torrent.Client, error) {
	cc := torrent.NewDefaultClientConfig()
	if cfg.ListenHost != "" {
		host := cfg.ListenHost
		cc.ListenHost = func(string) string { return host }
		if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
			cc.DisableIPv6 = true // an IPv4 host cannot be bound on tcp6/udp6
		}
	}
	cc.ListenPort = cfg.ListenPort
	cc.NoDHT = !cfg.DHT
	cc.DisablePEX = !cfg.PEX
	cc.NoDefaultPortForwarding = !cfg.PortForwarding
	cc.Seed = true
	// An archive node must keep connections to other complete nodes: they
	// are its repair sources when verification finds bitrot.
	cc.DropMutuallyCompletePeers = false
	cc.DisableWebtorrent = true
	cc.DialForPeerConns = false // preferTCP adds the dialers
	cc.Callbacks.ReadExtendedHandshake = readExtendedHandshake
	cc.Callbacks.PeerConnClosed = peers.closed
	cc.Callbacks.ReceivedUsefulData = append(cc.Callbacks.ReceivedUsefulData, sources.received)
	cc.DefaultStorage = st
	cc.KeepAliveTimeout = writerWakeBound
	if cfg.MaxUnverifiedBytes > 0 {
		cc.MaxUnverifiedBytes = cfg.MaxUnverifiedBytes
	}
	cc.Slogger = engineSlogger(cfg)
	// Always our own limiters (unlimited = rate.Inf): SetLimits adjusts them.
	cc.UploadRateLimiter, cc.DownloadRateLimiter = lim.up, lim.down
	// Every torrent gets its limit from addSources (connLimit) right after
	// the engine takes it in. The engine sizes each torrent's connection
	// map for twice its configured limit up front: 100,000 torrents with
	// the default 50 held 115 MB of empty maps for the collector to scan.
	cc.EstablishedConnsPerTorrent = initialConnsPerTorrent
	if cfg.MaxHalfOpen > 0 {
		cc.HalfOpenConnsPerTorrent = min(cc.HalfOpenConnsPerTorrent, cfg.MaxHalfOpen)
		cc.TotalHalfOpenConns = cfg.MaxHalfOpen
	}
	if err := applyNetPolicy(cc, cfg); err != nil {
		return nil, err
	}
	cl, err := torrent.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("seeder: start engine on %s:%d: %w", cfg.ListenHost, cfg.ListenPort, err)
	}
	preferTCP(cl)
	return cl, nil
}

// writerWakeBound is the engine's keepalive interval, which also bounds
// how long a connection's writer can sleep with work to do. In
// anacrolix/torrent v1.61.0 the writer (peerConnMsgWriter.run) takes its
// wake-up channel (writeCond.Signaled) only after it has filled its
// buffer and released the client lock, and a wake-up that comes between
// (tickleWriter, a Broadcast on a channel nobody has taken yet) is lost.
// Wake-ups that carry no bytes are the ones that matter: "update your
// requests" (pieces handed back, a chunk received, an unchoke: while the
// reason stays set every later one returns early, so nothing is
// requested) and "a chunk read for the peer is ready" (its request is
// never answered). The writer then sleeps until its keepalive timer,
// KeepAliveTimeout after its last write: the engine's default of a minute
// stalled repairs for 20+ s on a loaded machine (store test
// TestFilesDeletedReplacedOrMoved…: a connection interested and unchoked
// with pieces wanted and nothing requested, or with requests the seed
// held unanswered). The timer is re-armed only by a write, and a
// keepalive is written only when the connection is useful (we want its
// pieces, or it wants ours), so an idle useless connection costs nothing.
// Seeding meets it too: a chunk read for a leecher while the writer is
// between filling its buffer and taking the channel waits for the timer.
// With 5 s, 2 of 3 rounds seeding 2 GiB to one libtorrent leecher stalled
// 5 s (its progress lines flat for 10 x 0.5 s; 16 s instead of 9.5 s);
// with the default minute the two-leecher rounds stalled 60 s. 1 s costs
// a 4-byte keepalive a second on a useful idle connection and a wake-up
// of its writer.
const writerWakeBound = time.Second

// belowPeerReqq keeps one request below the queue length a peer
// announces. Transmission 3.00 refuses the request that would fill its
// queue (pending+1 >= reqq) and, without a reject, the engine waits for it
// forever: at reqq outstanding every slot leaks in turn and the download
// from transmission stalls after ~16 MiB (interop test
// TestArchivdDownloadsFromTransmissionAndRepairs). The engine reads reqq
// after this callback, so lowering it here is enough.
func belowPeerReqq(d *pp.ExtendedHandshakeMessage) {
	if d.Reqq > 1 {
		d.Reqq--
	}
}

// readExtendedHandshake is the engine's ReadExtendedHandshake callback:
// it notes the listen port the peer announced (listenPorts) and lowers
// its reqq (belowPeerReqq).
func readExtendedHandshake(pc *torrent.PeerConn, d *pp.ExtendedHandshakeMessage) {
	if d.Port != 0 {
		listenPorts.Store(pc, d.Port)
	}
	belowPeerReqq(d)
}

// listenPorts holds the listen port each connected peer announced in its
// extended handshake (*torrent.PeerConn -> int), dropped when the
// connection closes. The engine's own PeerConn.PeerListenPort is written
// under the engine's lock, which its API does not let us take: reading it
// from our loops was a data race (seen under -race).
var listenPorts sync.Map
