package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/archivd/archivd/internal/torrentfile"
)

// dataSet is a directory of files and the torrent describing it.
type dataSet struct {
	root    string // parent directory (the collection's data root)
	dir     string // root/name: the torrent's data
	name    string
	torrent string // the .torrent file
	tdir    string // a directory holding only that .torrent (a torrent_dir)
	files   []string
	size    int64
}

// writeRandom writes n pseudo-random bytes (seeded) to path in 8 MiB writes.
func writeRandom(path string, n int64, seed uint64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	buf := make([]byte, min(n, 8<<20))
	for left := n; left > 0; {
		k := min(left, int64(len(buf)))
		_, _ = r.Read(buf[:k])
		if _, err := f.Write(buf[:k]); err != nil {
			f.Close()
			return err
		}
		left -= k
	}
	return f.Close()
}

// makeTorrent creates the .torrent of dir (v1, pieceLen) at out.
func (b *bench) makeTorrent(dir, out string, pieceLen int64) error {
	t, err := torrentfile.Create(b.ctx, torrentfile.CreateOptions{Path: dir, PieceLength: pieceLen})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, t.Raw, 0o644)
}

// makeSet writes size bytes in files of at most 512 MiB under
// root/name and its torrent (4 MiB pieces).
func (b *bench) makeSet(root, name string, size int64) (*dataSet, error) {
	s := &dataSet{root: root, dir: filepath.Join(root, name), name: name, size: size,
		tdir: b.path("torrents-" + name)}
	s.torrent = filepath.Join(s.tdir, name+".torrent")
	const per = 512 << 20
	for i := 0; int64(i)*per < size; i++ {
		p := filepath.Join(s.dir, fmt.Sprintf("part%02d.bin", i))
		if err := writeRandom(p, min(per, size-int64(i)*per), uint64(i+1)); err != nil {
			return nil, err
		}
		s.files = append(s.files, p)
	}
	return s, b.makeTorrent(s.dir, s.torrent, 4<<20)
}

// makeMany writes n torrents of one 1 MiB file each (root/tNNNNN/data.bin,
// 256 KiB pieces) and their .torrent files in tdir.
func (b *bench) makeMany(root, tdir string, n int) error {
	for i := range n {
		name := fmt.Sprintf("t%05d", i)
		dir := filepath.Join(root, name)
		if err := writeRandom(filepath.Join(dir, "data.bin"), 1<<20, uint64(1000+i)); err != nil {
			return err
		}
		if err := b.makeTorrent(dir, filepath.Join(tdir, name+".torrent"), 256<<10); err != nil {
			return err
		}
	}
	return nil
}
