package seeder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// errBadMetadata: the metadata fetched for a magnet fails archivd's checks.
var errBadMetadata = errors.New("seeder: refused fetched metadata")

// refuseMetadata holds a magnet whose metadata is unsafe (paths leaving
// the data directory, aliasing files...): unavailable, with an event.
func (s *Seeder) refuseMetadata(ctx context.Context, e *entry, err error) {
	s.log.Error().Err(err).Str("torrent", e.row.HexHash()).Msg("magnet held unavailable")
	if aerr := s.db.SetAvailability(ctx, e.row.ID, catalog.AvailabilityOf{
		State: catalog.AvailabilityUnavailable, Cause: catalog.CauseBadMetadata, Reason: err.Error()}); aerr != nil {
		s.log.Error().Err(aerr).Msg("mark magnet unavailable")
	}
	_ = s.db.AddTorrentEvent(ctx, e.row.ID, "unavailable", err.Error(), nil)
}

// errNoData is what the metadata-only storage answers to any data access.
var errNoData = errors.New("seeder: metadata fetch only: no piece data")

// metadataOnly is the storage of a magnet while its metadata is fetched:
// the real store cannot open it yet (it needs the files, which come with
// the metadata), and no piece data must be written before the store knows
// the torrent. Every piece reads as "known not complete" so nothing is
// hashed, and nothing is requested because no piece gets a priority.
type metadataOnly struct{}

func (metadataOnly) OpenTorrent(context.Context, *metainfo.Info, metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{
		Piece: func(metainfo.Piece) storage.PieceImpl { return noPiece{} },
		Close: func() error { return nil },
	}, nil
}

type noPiece struct{}

func (noPiece) ReadAt([]byte, int64) (int, error)  { return 0, errNoData }
func (noPiece) WriteAt([]byte, int64) (int, error) { return 0, errNoData }
func (noPiece) MarkComplete() error                { return errNoData }
func (noPiece) MarkNotComplete() error             { return nil }
func (noPiece) Completion() storage.Completion {
	return storage.Completion{Ok: true, Complete: false}
}

// startFetch adds a magnet to the engine to fetch its metadata; a
// goroutine stores the metadata in the catalog, and the reconcile that
// follows replaces this entry by the real torrent.
func (s *Seeder) startFetch(ctx context.Context, p addPrepared) (*entry, error) {
	var announce [][]string
	if p.row.Magnet != "" {
		m, err := metainfo.ParseMagnetUri(p.row.Magnet)
		if err != nil {
			return nil, fmt.Errorf("seeder: fetch metadata of %s: parse magnet: %w", p.row.HexHash(), err)
		}
		for _, tr := range m.Trackers {
			announce = append(announce, []string{tr})
		}
	}
	t, isNew := s.client.AddTorrentOpt(torrent.AddTorrentOpts{InfoHash: p.row.InfoHash, Storage: metadataOnly{},
		DisallowDataDownload: true, DisallowDataUpload: true})
	if !isNew {
		return nil, fmt.Errorf("seeder: fetch metadata of %s: already in the engine", p.row.HexHash())
	}
	s.addSources(t, p.row, announce, nil, p.peers)
	fctx, cancel := context.WithCancel(ctx)
	e := &entry{row: p.row, t: t, fetching: true, cancelFetch: cancel}
	s.fetches.Add(1)
	go func() {
		defer s.fetches.Done()
		s.fetchMetadata(fctx, e)
	}()
	return e, nil
}

func (s *Seeder) fetchMetadata(ctx context.Context, e *entry) {
	select {
	case <-ctx.Done():
		return
	case <-e.t.GotInfo():
	}
	r := backoff.Retry{Backoff: backoff.Backoff{Min: time.Second, Max: time.Minute},
		Log: s.log.With().Str("torrent", e.row.HexHash()).Logger(), What: "store fetched magnet metadata"}
	for {
		err := s.storeMetadata(ctx, e)
		if err == nil {
			r.OK()
			break
		}
		if errors.Is(err, errBadMetadata) {
			s.refuseMetadata(ctx, e, err)
			return
		}
		if backoff.Sleep(ctx, r.Fail(err)) != nil {
			return
		}
	}
	s.log.Info().Str("torrent", e.row.HexHash()).Str("name", e.t.Name()).Msg("magnet metadata stored")
	s.requestReconcile(e.row.ID)
}

// storeMetadata writes the fetched metainfo and its files to the catalog,
// after the same strict checks as an imported .torrent (torrentfile.Parse):
// paths that could leave the data directory are refused here.
func (s *Seeder) storeMetadata(ctx context.Context, e *entry) error {
	raw, err := bencode.Marshal(e.t.Metainfo())
	if err != nil {
		return fmt.Errorf("seeder: encode metainfo of %s: %w", e.row.HexHash(), err)
	}
	tf, err := torrentfile.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w of %s: %v", errBadMetadata, e.row.HexHash(), err)
	}
	files := make([]catalog.File, len(tf.Files))
	for i, f := range tf.Files {
		files[i] = catalog.File{Index: f.Index, Path: f.Path, Length: f.Length, Offset: f.Offset}
	}
	err = s.db.SetMetainfo(ctx, e.row.ID, tf.Name, raw, tf.PieceLength, tf.PieceCount, tf.TotalLength, files)
	if err != nil {
		return fmt.Errorf("seeder: store metadata of %s: %w", e.row.HexHash(), err)
	}
	return nil
}
