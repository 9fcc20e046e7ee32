// Command scrubbench measures the scrubber against the torrent engine's own
// verification on the same data; bench/scrub.sh drives it. Loopback only:
// the engine client has DHT, PEX, trackers and port forwarding off.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"github.com/archivd/archivd/internal/verify/scrub"
)

func main() {
	mode := flag.String("mode", "scrub", "make | scrub | anacrolix")
	dir := flag.String("dir", "", "data directory (the torrent's root)")
	tfile := flag.String("torrent", "", ".torrent file (written by make)")
	size := flag.Int64("size", 2<<30, "make: total bytes")
	files := flag.Int("files", 8, "make: number of files")
	pieceLen := flag.Int64("piece", 4<<20, "make: piece length")
	block := flag.Int64("block", scrub.DefaultBlockSize, "scrub: read block size")
	workers := flag.Int("workers", 0, "scrub: hashing goroutines (0 = CPUs)")
	useMap := flag.Bool("map", false, "scrub: hash mapped page cache instead of pread copies")
	flag.Parse()
	var err error
	switch *mode {
	case "make":
		err = makeData(*dir, *tfile, *size, *files, *pieceLen)
	case "scrub":
		err = runScrub(*dir, *tfile, scrub.Options{BlockSize: *block, Workers: *workers, Map: *useMap})
	case "anacrolix":
		err = runAnacrolix(*dir, *tfile)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scrubbench:", err)
		os.Exit(1)
	}
}

func makeData(dir, tfile string, size int64, n int, pieceLen int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 4<<20)
	for i := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("file%02d.bin", i)))
		if err != nil {
			return err
		}
		for left := size / int64(n); left > 0; left -= int64(len(buf)) {
			_, _ = rng.Read(buf)
			if _, err := f.Write(buf[:min(left, int64(len(buf)))]); err != nil {
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	info := metainfo.Info{PieceLength: pieceLen}
	if err := info.BuildFromFilePath(dir); err != nil {
		return err
	}
	mi := metainfo.MetaInfo{}
	var err error
	if mi.InfoBytes, err = bencode.Marshal(info); err != nil {
		return err
	}
	f, err := os.Create(tfile)
	if err != nil {
		return err
	}
	defer f.Close()
	return mi.Write(f)
}

func loadTarget(dir, tfile string) (*scrub.Target, error) {
	mi, err := metainfo.LoadFromFile(tfile)
	if err != nil {
		return nil, err
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		return nil, err
	}
	if info.HasV2() {
		return loadV2Target(dir, tfile)
	}
	tg := &scrub.Target{DataDir: dir, PieceLength: info.PieceLength, TotalLength: info.TotalLength()}
	for i := 0; i < len(info.Pieces); i += 20 {
		tg.Hashes = append(tg.Hashes, [20]byte(info.Pieces[i:i+20]))
	}
	var off int64
	for _, f := range info.UpvertedFiles() {
		tg.Files = append(tg.Files, scrub.File{Path: strings.Join(f.Path, "/"), Length: f.Length, Offset: off, Index: len(tg.Files)})
		off += f.Length
	}
	return tg, tg.Validate()
}

func runScrub(dir, tfile string, o scrub.Options) error {
	tg, err := loadTarget(dir, tfile)
	if err != nil {
		return err
	}
	start := time.Now()
	s, err := scrub.Scrub(context.Background(), tg, 0, tg.NumPieces(), o)
	if err != nil {
		return err
	}
	what := "archivd scrub " + hashKind(tg) + " (pread)"
	if o.Map {
		what = "archivd scrub " + hashKind(tg) + " (mmap)"
	}
	report(what, s.BytesHashed, time.Since(start))
	if len(s.Bad) > 0 {
		return fmt.Errorf("%d bad pieces, first %+v", len(s.Bad), s.Bad[0])
	}
	return nil
}

func report(what string, n int64, d time.Duration) {
	fmt.Printf("%-24s %6.2f GB in %6.2fs = %7.1f MB/s\n", what, float64(n)/1e9, d.Seconds(), float64(n)/1e6/d.Seconds())
}

func runAnacrolix(dir, tfile string) error {
	if os.Getenv("TORRENT_STORAGE_DEFAULT_FILE_IO") != "classic" {
		return fmt.Errorf("set TORRENT_STORAGE_DEFAULT_FILE_IO=classic")
	}
	mi, err := metainfo.LoadFromFile(tfile)
	if err != nil {
		return err
	}
	cfg := torrent.NewDefaultClientConfig()
	cfg.NoDHT, cfg.DisablePEX, cfg.NoDefaultPortForwarding, cfg.DisableTrackers = true, true, true, true
	cfg.DisableWebtorrent, cfg.DisableWebseeds, cfg.DisableIPv6 = true, true, true
	cfg.ListenHost = func(string) string { return "127.0.0.1" }
	cfg.ListenPort = 0
	cfg.DataDir = filepath.Dir(dir)
	cfg.DefaultStorage = storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: filepath.Dir(dir), PieceCompletion: storage.NewMapPieceCompletion(), UsePartFiles: g.Some(false)})
	cl, err := torrent.NewClient(cfg)
	if err != nil {
		return err
	}
	defer cl.Close()
	t, err := cl.AddTorrent(mi)
	if err != nil {
		return err
	}
	<-t.GotInfo()
	start := time.Now()
	if err := t.VerifyDataContext(context.Background()); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Minute); !t.Complete().Bool(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pieces did not settle complete")
		}
	}
	report("anacrolix VerifyData", t.Length(), time.Since(start))
	return nil
}
