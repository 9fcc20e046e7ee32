package scrub

import (
	"crypto/sha1"
	"encoding/hex"
	"testing"
)

// ltData is the content of the libtorrent fixture files: byte i of a file
// of n bytes is ((i*31) % 251) ^ (n & 0xff).
func ltData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*31)%251) ^ byte(n&0xff)
	}
	return b
}

// ltV2 holds what libtorrent 2.0.8 (Debian python3-libtorrent) computed
// for those files in a v2-only torrent of 64 KiB pieces: the pieces root
// of each file and, for files longer than a piece, the piece layer.
// Reproduce: for n in sizes write ltData(n) to d/m/f%07d, then
// lt.create_torrent(fs, 65536, flags=lt.create_torrent.v2_only),
// set_piece_hashes, and print ti.files().root(i) and e[b"piece layers"].
var ltV2 = []struct {
	n     int
	root  string
	layer string
}{
	{1, "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a", ""},
	{16383, "bdf66ff2d60e52cae1dbc6d3de63e58d30afc019c685667ca90bf81d33ee6fcc", ""},
	{16384, "dff765a589fd8d7df3f0f69bbc220454f1ef4ea6c5c642d79879809829c0b2ba", ""},
	{16385, "2e3d5ff79268951c51a0307a3bcc24a29935c19051d1956c44b46d9888dae024", ""},
	{65536, "7b47c52eebaf4c20ab94b0f29ccc323ae3b544d1b8cb74ff59be87dca6c5935a", ""},
	{100000, "7aecb1cdfa2afb9d16d05a952de1acc946676ef783728adea11ebe63296a603f",
		"4845c75f31a96683025c1ecd38d01c962bdc14b552e0e8e76d8df5ccde212903" +
			"974df03e0cbf7579b40574f75667a91f80c309f9ff075ac491d62a076ee61d1e"},
	{200001, "1511944ba19b6387762c9dbaf4c6ebc0e2ef660540754f0e439d5cc3b0a26545",
		"dadaf03667b9a681e14dd833278b6a26c1da5f91bb0cf8281b08bcfc21a79488" +
			"19e87b088e74a866bac567853d741155835bc16feea7644433ada684f3ed86a3" +
			"b318b7de68aed59d68908a27e9077967301c15de928d6d7f9ca1069769c729be" +
			"4399cb4d41e712108626608e9daf7f7b508f02d223dadf50fd8899fb1a58f85a"},
}

// splits cuts data into parts at awkward places (inside leaves, one byte
// parts), as batches and mappings can hand a piece to the hasher.
func splits(data []byte) [][][]byte {
	out := [][][]byte{{data}}
	for _, cut := range []int{1, 7000, LeafSize - 1, LeafSize + 1, 3 * LeafSize / 2} {
		if cut < len(data) {
			out = append(out, [][]byte{data[:cut], data[cut:]})
		}
	}
	if len(data) > 3 {
		out = append(out, [][]byte{data[:1], data[1:2], data[2:3], data[3:]})
	}
	return out
}

// TestMerkleRootMatchesLibtorrent checks pieces roots (files up to one
// piece) and piece layer hashes (longer files, last piece partial)
// against libtorrent's, with the data split into parts in several ways.
func TestMerkleRootMatchesLibtorrent(t *testing.T) {
	t.Parallel()
	const pl = 64 << 10
	m := &merkler{}
	for _, c := range ltV2 {
		data := ltData(c.n)
		if c.layer == "" {
			for _, parts := range splits(data) {
				if got := hex.EncodeToString(rootOf(m, parts, int64(c.n), leavesFor(int64(c.n)))); got != c.root {
					t.Errorf("file of %d bytes in %d parts: pieces root %s, libtorrent %s", c.n, len(parts), got, c.root)
				}
			}
			continue
		}
		for p := 0; p*pl < c.n; p++ {
			piece := data[p*pl : min((p+1)*pl, c.n)]
			want := c.layer[64*p : 64*p+64]
			for _, parts := range splits(piece) {
				if got := hex.EncodeToString(rootOf(m, parts, int64(len(piece)), pl/LeafSize)); got != want {
					t.Errorf("file of %d bytes, piece %d in %d parts: %s, libtorrent %s", c.n, p, len(parts), got, want)
				}
			}
		}
	}
}

// TestMerkleRootIgnoresBytesPastLenButFeedsAll: padding after a file's
// data in the same parts (a hybrid's zeros) is not hashed into the v2
// root, while the SHA-1 fed alongside sees every byte, in order.
func TestMerkleRootIgnoresBytesPastLenButFeedsAll(t *testing.T) {
	t.Parallel()
	m := &merkler{}
	data := append(ltData(16385), make([]byte, 49151)...)
	want1 := sha1.Sum(data)
	for _, parts := range append(splits(data), [][]byte{data[:16380], data[16380:16390], data[16390:]}) {
		h := sha1.New()
		r := m.root(parts, 16385, 2, h)
		if got := hex.EncodeToString(r[:]); got != ltV2[3].root {
			t.Fatalf("%d parts: root %s with padding, libtorrent %s", len(parts), got, ltV2[3].root)
		}
		if [20]byte(h.Sum(nil)) != want1 {
			t.Fatalf("%d parts: SHA-1 fed alongside differs from sha1 of the data", len(parts))
		}
	}
}

func TestLeavesFor(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]int{1: 1, LeafSize: 1, LeafSize + 1: 2, 3 * LeafSize: 4, 4 * LeafSize: 4, 5*LeafSize - 1: 8} {
		if got := leavesFor(n); got != want {
			t.Errorf("leavesFor(%d) = %d, want %d", n, got, want)
		}
	}
}

func rootOf(m *merkler, parts [][]byte, n int64, leaves int) []byte {
	r := m.root(parts, n, leaves, nil)
	return r[:]
}
