package seeder

import (
	"errors"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/seeder/store"
	"github.com/rs/zerolog"
)

// onWriteError handles a chunk the engine could not write. The engine's
// default handler turns data download off for the torrent for good, which
// would leave it incomplete until a restart. Instead: a write the store
// refused because the piece's not-complete record is not yet durable (the
// catalog is away) is simply fetched again later; any other failure (disk
// full, I/O error) is logged, at most a few times a minute, and the piece,
// incomplete, is fetched again.
func (s *Seeder) onWriteError(row catalog.Torrent, err error) {
	if errors.Is(err, store.ErrNotDurable) {
		s.log.Debug().Err(err).Str("torrent", row.HexHash()).Msg("write refused until the catalog records the piece not complete")
		return
	}
	s.writeErrLog.Error().Err(err).Str("name", row.Name).Str("torrent", row.HexHash()).Msg("writing received data failed")
}

// sampledLogger limits a noisy message to a burst per period.
func sampledLogger(l zerolog.Logger) zerolog.Logger {
	return l.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Minute})
}
