package torrentfile

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
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
	// ARCHIVD_BENCH_CREATE_PIECE overrides the piece length (bytes).
	pl, _ := strconv.ParseInt(os.Getenv("ARCHIVD_BENCH_CREATE_PIECE"), 10, 64)
	var t *Torrent
	cpu0 := cpuSeconds(b)
	for b.Loop() {
		var err error
		if t, err = Create(context.Background(), CreateOptions{Path: dir, PieceLength: pl}); err != nil {
			b.Fatal(err)
		}
	}
	// The machine may be shared: bytes per CPU-second of this process (all
	// goroutines, user+sys, reads included) times the core count is what
	// Create would reach with the cores to itself. Compare with `openssl
	// speed -evp sha1` (single process), which divides by user CPU time.
	cpu := cpuSeconds(b) - cpu0
	b.ReportMetric(float64(t.TotalLength)*float64(b.N)/cpu/1e6, "MB/cpu-s")
	b.SetBytes(t.TotalLength)
	b.ReportMetric(float64(t.PieceLength), "piece-bytes")
	if out := os.Getenv("ARCHIVD_BENCH_CREATE_OUT"); out != "" {
		if err := os.WriteFile(out, t.Raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func cpuSeconds(tb testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
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
