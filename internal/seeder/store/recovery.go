package store

import "golang.org/x/time/rate"

// recoveryBurst is the least burst of the recovery limiter: a chunk
// written at once never exceeds it.
const recoveryBurst = 1 << 20

// SetRecoveryRate bounds the bytes per second written to the torrents
// registered as placed by the fleet planner (catalog.Torrent.Placed): their
// download from the nodes holding copies, every torrent together; 0 =
// unlimited. A write waits for its bytes in the chunk-writing goroutine
// of the engine's connection (the engine releases its lock there), so
// the connection's reading pauses and TCP slows the sender down.
func (s *Store) SetRecoveryRate(bytesPerSec int64) {
	if bytesPerSec <= 0 {
		s.recovery.SetLimit(rate.Inf)
		s.recovery.SetBurst(recoveryBurst)
		return
	}
	s.recovery.SetLimit(rate.Limit(bytesPerSec))
	s.recovery.SetBurst(int(max(bytesPerSec, recoveryBurst)))
}

// RecoveryRate is the rate in force (0 = unlimited).
func (s *Store) RecoveryRate() int64 {
	if s.recovery.Limit() == rate.Inf {
		return 0
	}
	return int64(s.recovery.Limit())
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
	for n > 0 {
		take := min(n, s.recovery.Burst())
		if err := s.recovery.WaitN(s.stopped, take); err != nil {
			return // stopping (or the burst changed under us): write at once
		}
		n -= take
	}
}
