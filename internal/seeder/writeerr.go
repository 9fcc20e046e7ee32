package seeder

import (
	"encoding/hex"
	"errors"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/datadir"
	"github.com/archivd/archivd/internal/seeder/store"
	"golang.org/x/sys/unix"
)

// onWriteError handles a chunk the engine could not write (the engine
// calls it on a goroutine of its own). The engine's default handler turns
// data download off for the torrent for good, which would leave it
// incomplete until a restart. Instead: a write the store refused because
// the piece's not-complete record is not yet durable (the catalog is away)
// is simply fetched again later; a data directory that disappeared (the
// store never makes one again for a torrent that had data there) makes
// the torrent unavailable (dataDirGone); any other failure (disk full, quota,
// read-only file system, I/O error) is a write fault: the fault loop makes
// the torrent degraded, suspends its downloads and retries with backoff.
func (s *Seeder) onWriteError(id int64, infoHash [20]byte, err error) {
	if errors.Is(err, store.ErrNotDurable) {
		s.log.Debug().Err(err).Str("torrent", hex.EncodeToString(infoHash[:])).Msg("write refused until the catalog records the piece not complete")
		return
	}
	if errors.Is(err, datadir.ErrDataDirMissing) {
		s.faults.report(faultEvent{id: id, cause: catalog.CauseDataMissing, err: err})
		return
	}
	s.faults.report(faultEvent{id: id, cause: writeCause(err), err: err})
}

// onWritten is told by the store of every chunk written: the first one of
// a degraded torrent ends its write fault.
func (s *Seeder) onWritten(torrentID int64) {
	if s.faults.n.Load() == 0 {
		return
	}
	s.faults.mu.Lock()
	f := s.faults.byID[torrentID]
	ok := f != nil && !f.ending
	if ok {
		f.ending = true
	}
	s.faults.mu.Unlock()
	if ok {
		s.faults.report(faultEvent{id: torrentID, ok: true})
	}
}

// writeCause names the availability cause of a failed write.
func writeCause(err error) catalog.AvailabilityCause {
	switch {
	case errors.Is(err, unix.ENOSPC):
		return catalog.CauseDiskFull
	case errors.Is(err, unix.EDQUOT):
		return catalog.CauseQuotaExceeded
	case errors.Is(err, unix.EROFS):
		return catalog.CauseReadOnly
	default:
		return catalog.CauseWriteIOError
	}
}
