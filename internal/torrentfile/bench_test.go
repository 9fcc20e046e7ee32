package torrentfile

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCreate hashes a directory with Create. By default it writes
// 256 MiB in a temp dir (page cache); ARCHIVD_BENCH_CREATE_DIR points it at an
// existing directory instead (bench/create.sh uses ~2 GB), and
// ARCHIVD_BENCH_CREATE_OUT, if set, receives the .torrent so that another
// client can verify it. Bytes/s is the hashing throughput to compare with
// `openssl speed -evp sha1 -multi N`.
func BenchmarkCreate(b *testing.B) {
	dir := os.Getenv("ARCHIVD_BENCH_CREATE_DIR")
	if dir == "" {
		dir = b.TempDir()
		writeRandomTree(b, dir, 8, 32<<20)
	}
	var t *Torrent
	for b.Loop() {
		var err error
		if t, err = Create(context.Background(), CreateOptions{Path: dir}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(t.TotalLength)
	b.ReportMetric(float64(t.PieceLength), "piece-bytes")
	if out := os.Getenv("ARCHIVD_BENCH_CREATE_OUT"); out != "" {
		if err := os.WriteFile(out, t.Raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// writeRandomTree writes n files of size bytes each under dir/sub<i%3>/.
func writeRandomTree(tb testing.TB, dir string, n int, size int64) {
	tb.Helper()
	buf := make([]byte, size)
	for i := range n {
		fillPseudoRandom(buf, uint64(i+1))
		p := filepath.Join(dir, "sub"+string(rune('a'+i%3)), "f"+string(rune('a'+i)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// fillPseudoRandom fills buf quickly and reproducibly (xorshift64).
func fillPseudoRandom(buf []byte, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 | 1
	for i := range buf {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[i] = byte(x)
	}
}
