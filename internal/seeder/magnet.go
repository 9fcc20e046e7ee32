package seeder

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"

	"github.com/archivd/archivd/internal/catalog"
)

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
	if err := s.storeMetadata(ctx, e); err != nil {
		s.log.Error().Err(err).Str("torrent", e.row.HexHash()).Msg("metadata fetched but not stored: retried at next reconcile")
		return
	}
	s.log.Info().Str("torrent", e.row.HexHash()).Str("name", e.t.Name()).Msg("magnet metadata stored")
	s.requestReconcile(e.row.ID)
}

// storeMetadata writes the fetched metainfo and its files to the catalog.
func (s *Seeder) storeMetadata(ctx context.Context, e *entry) error {
	mi := e.t.Metainfo()
	info, err := mi.UnmarshalInfo()
	if err != nil {
		return fmt.Errorf("seeder: decode fetched info of %s: %w", e.row.HexHash(), err)
	}
	raw, err := bencode.Marshal(mi)
	if err != nil {
		return fmt.Errorf("seeder: encode metainfo of %s: %w", e.row.HexHash(), err)
	}
	files := filesOf(&info)
	err = s.db.SetMetainfo(ctx, e.row.ID, info.BestName(), raw, info.PieceLength, info.NumPieces(), info.TotalLength(), files)
	if err != nil {
		return fmt.Errorf("seeder: store metadata of %s: %w", e.row.HexHash(), err)
	}
	return nil
}

// filesOf lists a torrent's files as the catalog keeps them: paths
// '/'-joined and relative to the torrent's own directory; a single-file
// torrent's one file is named after the torrent. The store checks the
// paths before it opens anything.
func filesOf(info *metainfo.Info) []catalog.File {
	var out []catalog.File
	var off int64
	for i, f := range info.UpvertedFiles() {
		p := strings.Join(f.BestPath(), "/")
		if !info.IsDir() {
			p = info.BestName()
		}
		out = append(out, catalog.File{Index: i, Path: p, Length: f.Length, Offset: off})
		off += f.Length
	}
	return out
}
