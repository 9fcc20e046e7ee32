package store

import (
	"context"

	"golang.org/x/time/rate"
)

// recoveryBurst is the least burst of the recovery limiter: a chunk
// written at once never exceeds it.
const recoveryBurst = 1 << 20

// SetRecoveryRate bounds the bytes per second written to the torrents
// registered as placed by the fleet planner (catalog.Torrent.Placed): their
// download from the nodes holding copies, every torrent together; 0 =
// unlimited. A write waits for its bytes in the chunk-writing goroutine
// of the engine's connection (the engine releases its lock there), so
// the connection's reading pauses and TCP slows the sender down.
func (s *Store) SetRecoveryRate(bytesPerSec int64) { setLimit(s.recovery, bytesPerSec) }

// RecoveryRate is the rate in force (0 = unlimited).
func (s *Store) RecoveryRate() int64 { return limitOf(s.recovery) }

// SetRecoverySendRate bounds the bytes per second read for peers from the
// torrents other nodes are recovering from the fleet (SetRecoverySending),
// every torrent together; 0 = unlimited. The engine reads a peer's
// requests in a goroutine of that connection, without its client lock: a
// read waiting for its bytes delays only that connection's requests.
//
// The engine (anacrolix/torrent v1.61.0) does not tell the storage which
// peer a read is for, so the bound is per torrent: while a torrent is
// being recovered, its reads for every peer wait (a peer outside the
// fleet fetching it at the same time shares the rate); other torrents
// and hashing (WriteTo) never wait.
func (s *Store) SetRecoverySendRate(bytesPerSec int64) { setLimit(s.recoverySend, bytesPerSec) }

// RecoverySendRate is the send rate in force (0 = unlimited).
func (s *Store) RecoverySendRate() int64 { return limitOf(s.recoverySend) }

// RecoveryBytesSent is the piece data read for peers of the torrents
// other nodes were recovering so far (what passed the send limiter).
func (s *Store) RecoveryBytesSent() int64 { return s.recoverySent.Load() }

// SetRecoverySending names the torrents (catalog ids) another node is
// recovering from the fleet now; it replaces the previous list.
func (s *Store) SetRecoverySending(ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sending = make(map[int64]bool, len(ids))
	for _, id := range ids {
		s.sending[id] = true
	}
	for id, ts := range s.byID {
		ts.sending.Store(s.sending[id])
	}
}

func setLimit(l *rate.Limiter, bytesPerSec int64) {
	if bytesPerSec <= 0 {
		l.SetLimit(rate.Inf)
		l.SetBurst(recoveryBurst)
		return
	}
	l.SetLimit(rate.Limit(bytesPerSec))
	l.SetBurst(int(max(bytesPerSec, recoveryBurst)))
}

func limitOf(l *rate.Limiter) int64 {
	if l.Limit() == rate.Inf {
		return 0
	}
	return int64(l.Limit())
}

// RecoveryBytesWritten is the piece data written to placed torrents so
// far (what passed the recovery limiter).
func (s *Store) RecoveryBytesWritten() int64 { return s.recoveryWritten.Load() }

// waitRecovery takes n bytes from the recovery limiter if ts was placed,
// waiting as long as the rate asks (or until the store stops).
func (s *Store) waitRecovery(ts *torrentState, n int) {
	if !ts.placed {
		return
	}
	s.recoveryWritten.Add(int64(n))
	s.waitLimiter(s.stopped, s.recovery, n)
}

// waitRecoverySend takes n bytes from the send limiter if another node is
// recovering ts.
func (s *Store) waitRecoverySend(ts *torrentState, n int, closed <-chan struct{}) {
	if !ts.sending.Load() {
		return
	}
	s.recoverySent.Add(int64(n))
	if closed == nil {
		s.waitLimiter(s.stopped, s.recoverySend, n)
		return
	}
	// The wait ends when the engine drops the torrent (its read is then
	// answered without reading: piece.ReadAt).
	ctx, cancel := context.WithCancel(s.stopped)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-closed:
			cancel()
		case <-stop:
		}
	}()
	s.waitLimiter(ctx, s.recoverySend, n)
}

// waitLimiter takes n bytes from l, waiting as long as its rate asks (or
// until ctx ends: the store stops, the torrent is closed).
func (s *Store) waitLimiter(ctx context.Context, l *rate.Limiter, n int) {
	for n > 0 {
		take := min(n, l.Burst())
		if err := l.WaitN(ctx, take); err != nil {
			return // stopping (or the burst changed under us): go on at once
		}
		n -= take
	}
}
