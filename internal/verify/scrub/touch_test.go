package scrub

import (
	"crypto/sha1"
	"math/rand/v2"
	"testing"
)

// writeTouched hashes exactly what it is given, whatever the size against
// the cache line and the chunk.
func TestWriteTouchedHashesEveryByteOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 65, touchChunk - 1, touchChunk, touchChunk + 1, 3*touchChunk + 17} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		h := sha1.New()
		writeTouched(h, b)
		if got, want := [20]byte(h.Sum(nil)), sha1.Sum(b); got != want {
			t.Errorf("%d bytes: hash %x, want %x", n, got, want)
		}
		if got, want := sha1Of([][]byte{b[:n/3], b[n/3:]}), sha1.Sum(b); got != want {
			t.Errorf("%d bytes in two parts: hash %x, want %x", n, got, want)
		}
	}
}
