package store

import (
	"context"
	"fmt"
	"os"
	"sync"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
)

type clientImpl struct{ s *Store }

// OpenTorrent binds a registered torrent to the engine. The info must
// match the catalog's files: the catalog decides where data lives.
func (c clientImpl) OpenTorrent(_ context.Context, info *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	ts := c.s.torrent(ih)
	if ts == nil {
		return storage.TorrentImpl{}, fmt.Errorf("seeder store: open torrent %s: not registered (call Register first)", ih.HexString())
	}
	if err := ts.checkInfo(info); err != nil {
		return storage.TorrentImpl{}, fmt.Errorf("seeder store: open torrent %s: %w", ih.HexString(), err)
	}
	if ts.mayRecreateDir() {
		// Nothing recorded: whether the directory is there now tells a
		// fresh download from one whose directory may vanish later.
		if fi, err := os.Stat(ts.dataDir); err == nil && fi.IsDir() {
			ts.dirSeen.Store(true)
		}
	}
	if err := c.s.createEmptyFiles(ts); err != nil {
		return storage.TorrentImpl{}, fmt.Errorf("seeder store: open torrent %s: %w", ih.HexString(), err)
	}
	closed := make(chan struct{})
	var closeOnce sync.Once
	return storage.TorrentImpl{
		PieceWithHash: func(p metainfo.Piece, _ g.Option[[]byte]) storage.PieceImpl {
			return &piece{s: c.s, ts: ts, index: p.Index(), off: p.Offset(), len: p.Length(), closed: closed}
		},
		Close: func() error {
			closeOnce.Do(func() { close(closed) })
			c.s.files.closeTorrent(ts)
			return nil
		},
	}, nil
}

// Close closes every open file. The store keeps running (Run owns it).
func (c clientImpl) Close() error {
	c.s.files.closeAll()
	return nil
}

// checkInfo refuses an info whose file layout differs from the catalog's.
func (ts *torrentState) checkInfo(info *metainfo.Info) error {
	if info.NumPieces() != ts.n {
		return fmt.Errorf("info has %d pieces, the catalog %d", info.NumPieces(), ts.n)
	}
	if info.TotalLength() != ts.total {
		return fmt.Errorf("info has %d bytes, the catalog's files %d", info.TotalLength(), ts.total)
	}
	fis := info.UpvertedFiles()
	if len(fis) != len(ts.files) {
		return fmt.Errorf("info has %d files, the catalog %d", len(fis), len(ts.files))
	}
	for i, fi := range fis {
		if fi.Length != ts.files[i].length {
			return fmt.Errorf("file %d: info says %d bytes, the catalog %d", i, fi.Length, ts.files[i].length)
		}
		if fi.TorrentOffset != ts.files[i].offset {
			return fmt.Errorf("file %d: info puts it at byte %d, the catalog at %d", i, fi.TorrentOffset, ts.files[i].offset)
		}
	}
	return nil
}
