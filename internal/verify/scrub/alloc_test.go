package scrub

import (
	"context"
	"runtime"
	"testing"
)

// A scrub of a small torrent allocates what its data needs, not a whole
// block per buffer: mapped, no buffer at all; read, one the size of the
// batch. (It used to allocate and zero 8 MiB for a 1 MiB torrent, mapped
// or not: a third of the CPU of a first start with 1,000 such torrents.)
func TestScrubOfASmallTorrentAllocatesWhatItsDataNeeds(t *testing.T) {
	tg := makeData(t, 256<<10, 1<<20)
	for _, c := range []struct {
		name string
		o    Options
		max  uint64
	}{
		{"mapped", Options{Map: true, Workers: 2}, 512 << 10},
		{"read", Options{Workers: 2}, (1 << 20) + 512<<10},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 4 {
			sum, err := Scrub(context.Background(), tg, 0, tg.NumPieces(), c.o)
			if err != nil || len(sum.Bad) != 0 || sum.PiecesChecked != 4 {
				t.Fatalf("%s: %+v, %v", c.name, sum, err)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 4; per > c.max {
			t.Errorf("%s: a scrub of 1 MiB allocated %d KiB, want at most %d KiB", c.name, per>>10, c.max>>10)
		}
	}
}
