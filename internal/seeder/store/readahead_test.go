package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	g "github.com/anacrolix/generics"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"golang.org/x/sys/unix"
)

// resident reports whether the page at off of path is in the page cache.
func resident(t *testing.T, path string, off int64) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := int64(os.Getpagesize())
	m, err := unix.Mmap(int(f.Fd()), off&^(page-1), int(page), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, 1)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	return vec[0]&1 == 1
}

// A peer's request for the first block of a piece reads the whole piece
// ahead (its last page comes into the page cache), and only that piece.
func TestFirstBlockReadsThePieceAhead(t *testing.T) {
	db := pgtest.New(t)
	const pl = 4 << 20
	dataDir := filepath.Join(t.TempDir(), "d")
	f := makeTorrentPL(t, db, "ra", []int{3 * pl}, dataDir, pl)
	copyTree(t, f, dataDir)
	path := filepath.Join(dataDir, filepath.FromSlash(f.fs[0].Path))
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = fh.Sync()
	_ = unix.Fadvise(int(fh.Fd()), 0, 0, unix.FADV_DONTNEED)
	fh.Close()
	if resident(t, path, 2*pl-1) {
		t.Skip("this file system keeps the pages cached (tmpfs?): read-ahead cannot be observed")
	}
	s := newStore(t, db)
	ctx := context.Background()
	if err := s.Register(ctx, f.cat, f.fs); err != nil {
		t.Fatal(err)
	}
	ti, err := s.ClientImpl().OpenTorrent(ctx, &f.info, f.ih)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16<<10)
	if _, err := ti.PieceWithHash(f.info.Piece(1), g.None[[]byte]()).ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the last page of piece 1 in the page cache", func() bool { return resident(t, path, 2*pl-1) })
	if resident(t, path, 3*pl-1) {
		t.Fatal("piece 2 was read ahead too")
	}
}
