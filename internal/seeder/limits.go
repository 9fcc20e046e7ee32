package seeder

import (
	"golang.org/x/time/rate"
)

// Limits are the engine settings that change while the seeder runs (a
// configuration reload, or a scheduled window of other speeds).
type Limits struct {
	UploadRate         int64 // bytes/s, 0 = unlimited
	DownloadRate       int64 // bytes/s, 0 = unlimited
	MaxConnsPerTorrent int   // 0 = engine default
	MaxConnsTotal      int   // spread over the torrents (see Config); 0 = no cap
	// RecoveryRate bounds the writes to the replicas the fleet planner
	// placed on this node (their download), bytes/s, 0 = unlimited; the
	// download limit above applies too.
	RecoveryRate int64
	// RecoverySendRate bounds the reads for peers of the torrents other
	// nodes are recovering from this one (SetRecoverySending), bytes/s,
	// 0 = unlimited; the upload limit above applies too.
	RecoverySendRate int64
}

// limiters are the engine's rate limiters, created once and adjusted in
// place: the engine reads them on every transfer.
type limiters struct {
	up, down *rate.Limiter
}

func newLimiters(up, down int64) limiters {
	l := limiters{up: rate.NewLimiter(rate.Inf, 1<<20), down: rate.NewLimiter(rate.Inf, 1<<20)}
	setRate(l.up, up)
	setRate(l.down, down)
	return l
}

// setRate applies bytesPerSec (0 = unlimited) with a burst of at least
// 1 MiB, so that a whole block read or written at once never exceeds it.
func setRate(l *rate.Limiter, bytesPerSec int64) {
	if bytesPerSec <= 0 {
		l.SetLimit(rate.Inf)
		l.SetBurst(1 << 20)
		return
	}
	l.SetLimit(rate.Limit(bytesPerSec))
	l.SetBurst(int(max(bytesPerSec, 1<<20)))
}

func rateOf(l *rate.Limiter) int64 {
	if l.Limit() == rate.Inf {
		return 0
	}
	return int64(l.Limit())
}

// SetLimits applies l now: rates to every transfer, the connection limit
// to every torrent in the engine and to those added later.
func (s *Seeder) SetLimits(l Limits) {
	setRate(s.lim.up, l.UploadRate)
	setRate(s.lim.down, l.DownloadRate)
	s.store.SetRecoveryRate(l.RecoveryRate)
	s.store.SetRecoverySendRate(l.RecoverySendRate)
	s.maxConns.Store(int64(l.MaxConnsPerTorrent))
	s.maxConnsTotal.Store(int64(l.MaxConnsTotal))
	s.SpreadConns()
}

// SetRecoverySending names the torrents (catalog ids) other nodes of the
// fleet are recovering from this one now (a replica the planner placed
// there, not complete yet): their reads for peers wait for the recovery
// send rate. The fleet planner calls it at each pass.
func (s *Seeder) SetRecoverySending(ids []int64) { s.store.SetRecoverySending(ids) }

// SpreadConns sets every torrent's connection limit: the per-torrent one,
// or its share of the total cap for the torrents in the engine now. The
// daemon calls it periodically while a total cap is set, as torrents come
// and go.
func (s *Seeder) SpreadConns() {
	ts := s.client.Torrents()
	n := connsPerTorrent(int(s.maxConns.Load()), int(s.maxConnsTotal.Load()), len(ts))
	if n <= 0 {
		return
	}
	for _, t := range ts {
		t.SetMaxEstablishedConns(n)
	}
}

// Limits are the limits in force.
func (s *Seeder) Limits() Limits {
	return Limits{UploadRate: rateOf(s.lim.up), DownloadRate: rateOf(s.lim.down),
		MaxConnsPerTorrent: int(s.maxConns.Load()), MaxConnsTotal: int(s.maxConnsTotal.Load()), RecoveryRate: s.store.RecoveryRate(),
		RecoverySendRate: s.store.RecoverySendRate()}
}
