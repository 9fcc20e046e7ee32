package scrub

import (
	"crypto/sha256"
	"io"
	"math/bits"

	"github.com/archivd/archivd/internal/prefetch"
)

// LeafSize is BEP 52's merkle leaf: every file is hashed in 16 KiB blocks.
const LeafSize = 16 << 10

// V2Piece is what one BEP 52 piece is checked against.
type V2Piece struct {
	// Hash is the piece's hash in its file's piece layer, or the file's
	// pieces root for a file no longer than one piece (such a file has no
	// piece-layer entry).
	Hash [32]byte
	// Len is the number of file bytes in the piece; v2 pieces never span
	// files, so the rest of the piece (if any) is padding, not hashed.
	Len int64
	// Leaves is the width of the piece's tree: piece length / 16 KiB for a
	// piece-layer hash, the leaf count rounded up to a power of two for a
	// pieces root. Leaves past the data are zero hashes (BEP 52).
	Leaves int
	// Root: Hash is the file's pieces root (the file fits in one piece).
	Root bool
}

// merkler computes BEP 52 roots. One per hashing goroutine: it keeps its
// leaf and scratch buffers between pieces.
type merkler struct {
	hashes  [][32]byte
	scratch []byte // a leaf that straddles two parts
}

// root returns the merkle root of the first n bytes of parts, as a tree
// of width leaves (a power of two). If also is set, it is fed every byte
// of parts, in order, as the leaves are hashed: a hybrid's SHA-1 then
// reads each block while it is still in the CPU cache.
func (m *merkler) root(parts [][]byte, n int64, leaves int, also io.Writer) [32]byte {
	m.hashes = m.hashes[:0]
	m.leafHashes(parts, n, also)
	for len(m.hashes) < leaves {
		m.hashes = append(m.hashes, [32]byte{})
	}
	return reduce(m.hashes)
}

// leafHashes appends the SHA-256 of every 16 KiB block of the first n
// bytes of parts (the last block may be shorter and is hashed as is).
// Bytes past n (padding) go to also only.
func (m *merkler) leafHashes(parts [][]byte, n int64, also io.Writer) {
	fill := 0 // bytes of a straddling leaf held in scratch
	for _, p := range parts {
		tail := p[min(int64(len(p)), n):]
		p = p[:len(p)-len(tail)]
		n -= int64(len(p))
		if fill > 0 {
			k := copy(m.scratch[fill:LeafSize], p)
			feed(also, p[:k])
			fill += k
			p = p[k:]
			if fill == LeafSize {
				m.hashes = append(m.hashes, sha256.Sum256(m.scratch))
				fill = 0
			}
		}
		for len(p) >= LeafSize {
			prefetch.Touch(p[:LeafSize]) // see prefetch.Touch: in cache before both hashes read it
			feed(also, p[:LeafSize])
			m.hashes = append(m.hashes, sha256.Sum256(p[:LeafSize]))
			p = p[LeafSize:]
		}
		if len(p) > 0 {
			if m.scratch == nil {
				m.scratch = make([]byte, LeafSize)
			}
			feed(also, p)
			fill = copy(m.scratch, p)
		}
		feed(also, tail)
	}
	if fill > 0 {
		m.hashes = append(m.hashes, sha256.Sum256(m.scratch[:fill]))
	}
}

func feed(w io.Writer, b []byte) {
	if w != nil && len(b) > 0 {
		_, _ = w.Write(b) // hash.Hash writes never fail
	}
}

// reduce hashes pairs level by level, in place, down to the root. len(h)
// must be a power of two.
func reduce(h [][32]byte) [32]byte {
	var pair [64]byte
	for w := len(h); w > 1; w /= 2 {
		for i := 0; i < w/2; i++ {
			copy(pair[:32], h[2*i][:])
			copy(pair[32:], h[2*i+1][:])
			h[i] = sha256.Sum256(pair[:])
		}
	}
	return h[0]
}

// leavesFor is the tree width of a pieces root over n bytes: the leaf
// count rounded up to a power of two.
func leavesFor(n int64) int {
	k := uint64((n + LeafSize - 1) / LeafSize)
	if k <= 1 {
		return 1
	}
	return 1 << bits.Len64(k-1)
}

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }
