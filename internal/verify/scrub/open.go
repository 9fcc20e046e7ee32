package scrub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/archivd/archivd/internal/datadir"
)

// Reader is an open data file.
type Reader interface {
	io.ReaderAt
	io.Closer
}

// Opener opens a data file by its '/'-separated path relative to the data
// dir. Errors wrapping fs.ErrNotExist are reported as missing_file, all
// others as io_error. Tests inject openers that fail on purpose.
type Opener interface {
	Open(rel string) (Reader, error)
	Close() error
}

// OpenerFunc makes an Opener for a data dir; DirOpener is the real one.
type OpenerFunc func(dataDir string) (Opener, error)

// DirOpener opens files through a datadir.Root on dataDir, under the
// store's symlink policy: no symbolic link below the data dir is followed
// (a file reached through one is an io_error finding, as the store cannot
// serve it), and only regular files are opened (a FIFO would block; a
// directory or device is an io_error too).
func DirOpener(dataDir string) (Opener, error) {
	root, err := datadir.OpenRoot(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return missingDir{err: err}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scrub: %w", err)
	}
	return rootOpener{root: root}, nil
}

type rootOpener struct{ root *datadir.Root }

func (o rootOpener) Open(rel string) (Reader, error) {
	f, _, err := o.root.OpenFile(rel, datadir.Read)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (o rootOpener) Close() error { return o.root.Close() }

type osFile struct{ *os.File }

// missingDir answers every open with the data dir's own not-exist error,
// so a vanished data dir shows as missing files, not as a failed scrub.
type missingDir struct{ err error }

func (m missingDir) Open(string) (Reader, error) { return nil, m.err }
func (m missingDir) Close() error                { return nil }

// Prefetch asks the kernel to start reading [off, off+n) now
// (POSIX_FADV_WILLNEED), so the disk works on the next block while the
// current one is hashed. Advisory: errors are ignored.
func (f osFile) Prefetch(off, n int64) {
	_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_WILLNEED)
}

// prefetcher is implemented by readers that can read ahead.
type prefetcher interface{ Prefetch(off, n int64) }
