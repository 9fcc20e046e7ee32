package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pieceData reports, for each piece of pieceLen bytes of the files laid
// end to end, how many bytes hold data (SEEK_DATA/SEEK_HOLE: the store
// writes no holes' worth of zeros and preallocates nothing, so this is
// what the downloader had written when it was killed).
func pieceData(files []string, sizes []int64, pieceLen int64) ([]int64, error) {
	var total int64
	for _, n := range sizes {
		total += n
	}
	out := make([]int64, (total+pieceLen-1)/pieceLen)
	var base int64
	for i, name := range files {
		f, err := os.Open(name)
		if err != nil {
			if os.IsNotExist(err) {
				base += sizes[i]
				continue
			}
			return nil, err
		}
		fd := int(f.Fd())
		for off := int64(0); off < sizes[i]; {
			from, err := unix.Seek(fd, off, unix.SEEK_DATA)
			if err != nil || from >= sizes[i] {
				break
			}
			to, err := unix.Seek(fd, from, unix.SEEK_HOLE)
			if err != nil || to > sizes[i] {
				to = sizes[i]
			}
			for p := base + from; p < base+to; {
				next := min((p/pieceLen+1)*pieceLen, base+to)
				out[p/pieceLen] += next - p
				p = next
			}
			off = to
		}
		f.Close()
		base += sizes[i]
	}
	return out, nil
}

// killScan summarises what a killed downloader left: pieces recorded
// complete, and the others that hold data (all of it or part).
func killScan(data []int64, pieceLen int64, complete int) string {
	var full, part int
	var partBytes int64
	for _, n := range data {
		switch {
		case n == pieceLen:
			full++
		case n > 0:
			part++
			partBytes += n
		}
	}
	return fmt.Sprintf("%d pieces recorded complete; on disk %d pieces fully written (%d not recorded complete), %d partly written holding %.1f MiB",
		complete, full, full-complete, part, float64(partBytes)/(1<<20))
}
