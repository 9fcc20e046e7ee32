package prefetch

import (
	"crypto/sha1"
	"math/rand/v2"
	"testing"
)

// WriteTouched hashes exactly what it is given, whatever the size against
// the cache line and the chunk, in one call or in two.
func TestWriteTouchedHashesEveryByteOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 65, Chunk - 1, Chunk, Chunk + 1, 3*Chunk + 17} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want := sha1.Sum(b)
		h := sha1.New()
		WriteTouched(h, b)
		if got := [20]byte(h.Sum(nil)); got != want {
			t.Errorf("%d bytes: hash %x, want %x", n, got, want)
		}
		h.Reset()
		WriteTouched(h, b[:n/3])
		WriteTouched(h, b[n/3:])
		if got := [20]byte(h.Sum(nil)); got != want {
			t.Errorf("%d bytes in two parts: hash %x, want %x", n, got, want)
		}
	}
}
