// Command manytorrents fills a catalog with many small synthetic torrents
// whose data lies on disk and is recorded complete: a node with many
// torrents after a clean stop, for measuring `archivd serve` at scale.
//
//	manytorrents -db URL -dir DATA -n 100000 [-collection many] [-size 16384]
//	manytorrents -torrent-dir TDIR -dir DATA -n 1000
//
// Each torrent is one file of -size bytes (one piece), unique content, in
// DATA/NNN/ (1,000 per directory). Nothing is announced anywhere. With
// -torrent-dir the catalog is not touched: the .torrent files are written
// to TDIR and the data flat in DATA, for a collection with torrent_dir
// TDIR and data_root DATA.
package main

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/torrentfile"
)

func main() {
	url := flag.String("db", "", "catalog URL")
	dir := flag.String("dir", "", "data directory")
	n := flag.Int("n", 1000, "torrents")
	coll := flag.String("collection", "many", "collection (created if missing)")
	size := flag.Int("size", 16384, "bytes per torrent (one piece)")
	tdir := flag.String("torrent-dir", "", "write .torrent files here instead of catalog rows")
	flag.Parse()
	var err error
	if *tdir != "" {
		err = writeFiles(*tdir, *dir, *coll, *n, *size)
	} else {
		err = run(context.Background(), *url, *dir, *coll, *n, *size)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "manytorrents:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, dir, coll string, n, size int) error {
	if url == "" || dir == "" || size <= 0 {
		return fmt.Errorf("-db, -dir and a positive -size are needed")
	}
	db, err := catalog.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Collection(ctx, coll); err != nil {
		if _, err := db.CreateCollection(ctx, catalog.Collection{Name: coll}); err != nil {
			return err
		}
	}
	start := time.Now()
	const batch = 1000
	for first := 0; first < n; first += batch {
		var ns []catalog.NewTorrent
		for i := first; i < min(n, first+batch); i++ {
			nt, err := makeOne(dir, coll, i, size)
			if err != nil {
				return err
			}
			ns = append(ns, nt)
		}
		if _, err := db.AddTorrents(ctx, ns); err != nil {
			return err
		}
	}
	fmt.Printf("%d torrents of %d bytes in %s (%s)\n", n, size, dir, time.Since(start).Round(time.Millisecond))
	return nil
}

// writeFiles writes n torrents' data flat in dir and their .torrent
// files in tdir.
func writeFiles(tdir, dir, coll string, n, size int) error {
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return err
	}
	for i := range n {
		raw, err := writeOne(dir, coll, i, size)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tdir, fmt.Sprintf("synth-%07d.torrent", i)), raw, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%d .torrent files in %s, data in %s\n", n, tdir, dir)
	return nil
}

// makeOne writes torrent i's data and returns its catalog row.
func makeOne(dir, coll string, i, size int) (catalog.NewTorrent, error) {
	sub := filepath.Join(dir, fmt.Sprintf("%03d", i/1000))
	raw, err := writeOne(sub, coll, i, size)
	if err != nil {
		return catalog.NewTorrent{}, err
	}
	t, err := torrentfile.Parse(raw)
	if err != nil {
		return catalog.NewTorrent{}, err
	}
	nt := importer.NewTorrentOf(t, coll, t.DataDirFor(sub))
	nt.Verified = true
	return nt, nil
}

// writeOne writes torrent i's one file in dir and returns its metainfo.
func writeOne(dir, coll string, i, size int) ([]byte, error) {
	data := make([]byte, size)
	binary.BigEndian.PutUint64(data, uint64(i))
	copy(data[8:], coll)
	name := fmt.Sprintf("synth-%07d.bin", i)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return nil, err
	}
	sum := sha1.Sum(data)
	info := metainfo.Info{Name: name, Length: int64(size), PieceLength: int64(size), Pieces: sum[:]}
	ib, err := bencode.Marshal(info)
	if err != nil {
		return nil, err
	}
	return bencode.Marshal(metainfo.MetaInfo{InfoBytes: ib})
}
