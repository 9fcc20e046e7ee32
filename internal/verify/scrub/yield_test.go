package scrub

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/verify/clock"

	"golang.org/x/sys/unix"
)

// threadPriority reads the calling thread's nice value and I/O class.
func threadPriority(t *testing.T) (nice, ioClass int) {
	t.Helper()
	tid := unix.Gettid()
	// getpriority(2) returns 20-nice from the raw syscall.
	p, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		t.Errorf("getpriority: %v", err)
	}
	const ioprioGet = unix.SYS_IOPRIO_GET
	v, _, errno := unix.Syscall(ioprioGet, ioprioWhoProcess, uintptr(tid), 0)
	if errno != 0 {
		t.Errorf("ioprio_get: %v", errno)
	}
	return 20 - p, int(v) >> ioprioClassShift
}

// recordingOpener notes the priority of the thread that opens files (the
// reader).
type recordingOpener struct {
	Opener
	t      *testing.T
	mu     sync.Mutex
	nice   []int
	ioprio []int
}

func (o *recordingOpener) Open(rel string) (Reader, error) {
	n, c := threadPriority(o.t)
	o.mu.Lock()
	o.nice, o.ioprio = append(o.nice, n), append(o.ioprio, c)
	o.mu.Unlock()
	return o.Opener.Open(rel)
}

// A background scrub reads on an idle-I/O, nice-19 thread and hashes on
// nice-19 threads; the caller's thread, and a foreground scrub, keep the
// normal priority.
func TestBackgroundScrubYields(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 64<<10, 300<<10, 200<<10)
	for _, bg := range []bool{true, false} {
		rec := &recordingOpener{t: t}
		var hashNice []int
		var mu sync.Mutex
		o := Options{Workers: 2, Background: bg, BlockSize: 64 << 10,
			Open: func(dir string) (Opener, error) {
				op, err := DirOpener(dir)
				rec.Opener = op
				return rec, err
			},
			OnPiece: func(Result) {
				n, _ := threadPriority(t)
				mu.Lock()
				hashNice = append(hashNice, n)
				mu.Unlock()
			}}
		s := scrubAll(t, tg, o)
		if len(s.Bad) != 0 {
			t.Fatalf("background=%v: bad pieces %v", bg, s.Bad)
		}
		wantNice := 0
		if bg {
			wantNice = niceBackground
		}
		for i := range rec.nice {
			// The default class reads back as none or best-effort by kernel version.
			if rec.nice[i] != wantNice || (rec.ioprio[i] == ioprioClassIdle) != bg {
				t.Errorf("background=%v: reader thread at nice %d, I/O class %d; want nice %d, idle class %v", bg, rec.nice[i], rec.ioprio[i], wantNice, bg)
			}
		}
		if len(rec.nice) == 0 || len(hashNice) != tg.NumPieces() {
			t.Fatalf("background=%v: %d opens, %d pieces seen", bg, len(rec.nice), len(hashNice))
		}
		for _, n := range hashNice {
			if n != wantNice {
				t.Errorf("background=%v: hasher thread at nice %d, want %d", bg, n, wantNice)
			}
		}
		if n, c := threadPriority(t); n != 0 || c == ioprioClassIdle {
			t.Errorf("background=%v: the caller's thread changed to nice %d, I/O class %d", bg, n, c)
		}
	}
}

// While Busy says true, reads wait for BusyLimiter (1 MiB at 256 KiB/s:
// 4 s of clock time); once it says false they do not wait at all.
func TestBusyScrubReadsAtTheBusyRate(t *testing.T) {
	t.Parallel()
	tg := makeData(t, 16<<10, 1<<20)
	const rate = 256 << 10
	for _, busy := range []bool{true, false} {
		clk := clock.NewAutoFake(time.Unix(1e9, 0))
		start := clk.Now()
		var asked atomic.Int64
		s := scrubAll(t, tg, Options{BlockSize: 64 << 10, BusyLimiter: NewLimiter(rate, clk),
			Busy: func() bool { asked.Add(1); return busy }})
		got := clk.Now().Sub(start).Seconds()
		want := 0.0
		if busy {
			want = float64(s.BytesHashed) / rate
		}
		if got < want*0.9 || got > want*1.1+0.01 {
			t.Fatalf("busy=%v: 1 MiB took %.2fs of clock time, want %.2fs ±10%%", busy, got, want)
		}
		if asked.Load() != 16 {
			t.Fatalf("busy=%v: Busy asked %d times, want once per 64 KiB block (16)", busy, asked.Load())
		}
	}
}
