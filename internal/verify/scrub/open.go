package scrub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
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

// DirOpener opens files through an os.Root on dataDir, so that no path and
// no symlink can lead out of the data dir (absolute symlinks are refused
// too). Non-regular files other than directories are refused without being
// opened for reading (a FIFO would block); a directory is opened and fails
// at read time with EISDIR like any unreadable file.
func DirOpener(dataDir string) (Opener, error) {
	root, err := os.OpenRoot(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return missingDir{err: err}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scrub: open data dir: %w", err)
	}
	return rootOpener{root: root}, nil
}

type rootOpener struct{ root *os.Root }

func (o rootOpener) Open(rel string) (Reader, error) {
	fi, err := o.root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		// Root refuses links that leave it; links inside are followed
		// like the engine does, but never to a non-regular file.
		if fi, err = o.root.Stat(rel); err != nil {
			return nil, fmt.Errorf("symlink: %w", err)
		}
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	f, err := o.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
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
