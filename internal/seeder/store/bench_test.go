package store

import (
	"context"
	"fmt"
	"io"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent/storage"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// BenchmarkTransfer downloads a 64 MiB, 4-file torrent (256 KiB pieces)
// from a loopback peer into a Store-backed client, group commits included.
func BenchmarkTransfer(b *testing.B) {
	db := pgtest.New(b)
	const size = 16 << 20
	b.SetBytes(4 * size)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dl := filepath.Join(b.TempDir(), "dl")
		f := makeTorrentPL(b, db, fmt.Sprintf("bench%d", i), []int{size, size, size, size}, dl, 256<<10)
		seeder := newSeeder(b, f)
		s := newStore(b, db)
		s.interval = 200 * time.Millisecond
		runStore(b, s)
		if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
			b.Fatal(err)
		}
		cl := newClient(b, s.ClientImpl())
		b.StartTimer()
		tt, err := cl.AddTorrent(f.mi)
		if err != nil {
			b.Fatal(err)
		}
		tt.DownloadAll()
		addPeer(tt, seeder)
		waitComplete(b, tt, 2*time.Minute, seeder)
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cl.Close()
		seeder.Close()
	}
}

// BenchmarkTransferLibraryFileStorage is the same transfer into the
// library's own file storage (mmap, no part files, in-memory completion,
// no fsync): the baseline the Store is compared with.
func BenchmarkTransferLibraryFileStorage(b *testing.B) {
	db := pgtest.New(b)
	const size = 16 << 20
	b.SetBytes(4 * size)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := makeTorrentPL(b, db, fmt.Sprintf("lib%d", i), []int{size, size, size, size}, b.TempDir(), 256<<10)
		seeder := newSeeder(b, f)
		cl := newClient(b, storage.NewFileOpts(storage.NewFileClientOpts{ClientBaseDir: b.TempDir(),
			UsePartFiles: g.Some(false), PieceCompletion: storage.NewMapPieceCompletion()}))
		b.StartTimer()
		tt, err := cl.AddTorrent(f.mi)
		if err != nil {
			b.Fatal(err)
		}
		tt.DownloadAll()
		addPeer(tt, seeder)
		waitComplete(b, tt, 2*time.Minute, seeder)
		b.StopTimer()
		cl.Close()
		seeder.Close()
	}
}

// BenchmarkGroupCommit measures MarkComplete of 1,024 freshly written
// 16 KiB pieces over 8 files plus one group commit (8 fdatasyncs, one
// transaction).
func BenchmarkGroupCommit(b *testing.B) {
	db := pgtest.New(b)
	dl := filepath.Join(b.TempDir(), "dl")
	sizes := make([]int, 8)
	for i := range sizes {
		sizes[i] = 128 * testPieceLen
	}
	f := makeTorrent(b, db, "commit", sizes, dl)
	s := newStore(b, db)
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		b.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(context.Background(), &f.info, f.ih)
	if err != nil {
		b.Fatal(err)
	}
	n := f.info.NumPieces()
	buf := make([]byte, testPieceLen)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := s.MarkNotComplete(context.Background(), f.ih, seq(n)); err != nil {
			b.Fatal(err)
		}
		for p := 0; p < n; p++ {
			if _, err := ti.PieceWithHash(f.info.Piece(p), nullHash()).WriteAt(buf, 0); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for p := 0; p < n; p++ {
			if err := ti.PieceWithHash(f.info.Piece(p), nullHash()).MarkComplete(); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "pieces/s")
}

// BenchmarkRegister loads the state of a 65,536-piece torrent.
func BenchmarkRegister(b *testing.B) {
	db := pgtest.New(b)
	f := makeTorrentPL(b, db, "big", []int{64 << 10}, filepath.Join(b.TempDir(), "d"), 16<<10)
	big := f.cat
	big.PieceCount, big.PieceLength, big.TotalLength = 65536, 16<<10, 65536*16<<10
	files := []catalog.File{{Index: 0, Path: "f", Length: big.TotalLength}}
	ups := make([]catalog.PieceUpdate, 65536)
	for i := range ups {
		ups[i] = catalog.PieceUpdate{Piece: i, Complete: i%3 != 0}
	}
	if err := db.StorePieces(context.Background(), map[int64][]catalog.PieceUpdate{big.ID: ups}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := newStore(b, db)
		if err := s.Register(context.Background(), big, files); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashRead streams 4 MiB pieces through WriteTo, the engine's
// hashing path (page cache warm).
func BenchmarkHashRead(b *testing.B) {
	db := pgtest.New(b)
	dl := filepath.Join(b.TempDir(), "dl")
	f := makeTorrentPL(b, db, "read", []int{64 << 20}, dl, 4<<20)
	copyTree(b, f, dl)
	s := newStore(b, db)
	if err := s.Register(context.Background(), f.cat, f.fs); err != nil {
		b.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(context.Background(), &f.info, f.ih)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := ti.PieceWithHash(f.info.Piece(i%f.info.NumPieces()), nullHash())
		if _, err := p.(io.WriterTo).WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
