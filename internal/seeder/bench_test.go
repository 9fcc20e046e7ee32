package seeder

import (
	"context"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// manyTorrents records n single-file torrents of 64 KiB (4 pieces) as
// verified. Their files are hard links to one file: the seeder treats them
// as n torrents, the disk holds 64 KiB.
func manyTorrents(b *testing.B, db *catalog.DB, n int) {
	root := b.TempDir()
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	orig := filepath.Join(root, "orig")
	if err := os.WriteFile(orig, data, 0o644); err != nil {
		b.Fatal(err)
	}
	var pieces []byte
	for off := 0; off < len(data); off += 16 << 10 {
		h := sha1.Sum(data[off : off+16<<10])
		pieces = append(pieces, h[:]...)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				addTiny(b, db, root, orig, pieces, i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

func addTiny(b *testing.B, db *catalog.DB, root, orig string, pieces []byte, i int) {
	name := fmt.Sprintf("t%05d.bin", i)
	dir := filepath.Join(root, fmt.Sprintf("d%05d", i))
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Error(err)
		return
	}
	if err := os.Link(orig, filepath.Join(dir, name)); err != nil {
		b.Error(err)
		return
	}
	info := metainfo.Info{Name: name, PieceLength: 16 << 10, Length: 64 << 10, Pieces: pieces}
	ib, err := bencode.Marshal(info)
	if err != nil {
		b.Error(err)
		return
	}
	mi := metainfo.MetaInfo{InfoBytes: ib}
	raw, err := bencode.Marshal(mi)
	if err != nil {
		b.Error(err)
		return
	}
	_, err = db.AddTorrent(context.Background(), catalog.NewTorrent{Collection: "c", InfoHash: mi.HashInfoBytes(),
		Name: name, Metainfo: raw, PieceLength: 16 << 10, PieceCount: 4, TotalLength: 64 << 10, DataDir: dir,
		Files: []catalog.File{{Index: 0, Path: name, Length: 64 << 10}}, Verified: true})
	if err != nil {
		b.Error(err)
	}
}

// BenchmarkStartAllSeeding measures a seeder process's start until every
// torrent of the catalog seeds (ms since process start) and its RSS then,
// after a clean stop and after SIGKILL of the previous run.
func BenchmarkStartAllSeeding(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, mode := range []string{"clean", "sigkill"} {
			b.Run(fmt.Sprintf("torrents=%d/after=%s", n, mode), func(b *testing.B) {
				url := pgtest.URL(b)
				db, err := catalog.Open(context.Background(), url)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if _, err := db.CreateCollection(context.Background(), catalog.Collection{Name: "c"}); err != nil {
					b.Fatal(err)
				}
				manyTorrents(b, db, n)
				env := childExpectEnv + "=" + fmt.Sprint(n)
				stop := func(c *child) {
					if mode == "clean" {
						c.term(b)
					} else {
						c.kill(b)
					}
				}
				stop(waitAllSeeding(b, startChild(b, "bench", url, 0, env))) // first start
				b.ResetTimer()
				var ms, rss int64
				for range b.N {
					c := startChild(b, "bench", url, 0, env)
					m, r := readAllSeeding(b, c)
					ms, rss = ms+m, max(rss, r)
					b.StopTimer()
					stop(c)
					b.StartTimer()
				}
				b.ReportMetric(float64(ms)/float64(b.N), "ms-to-all-seeding")
				b.ReportMetric(float64(rss)/1024, "MiB-RSS")
			})
		}
	}
}

func waitAllSeeding(b *testing.B, c *child) *child {
	readAllSeeding(b, c)
	return c
}

func readAllSeeding(b *testing.B, c *child) (ms, rss int64) {
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				b.Fatal("child exited before all torrents seeded")
			}
			if strings.HasPrefix(l, "ALLSEEDING ") {
				fmt.Sscan(strings.TrimPrefix(l, "ALLSEEDING "), &ms, &rss)
				return ms, rss
			}
		case <-timeout:
			b.Fatal("not all torrents seeding within 5 minutes")
		}
	}
}
