package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The symlink policy, one for the store (serving and downloading), the
// scrubber and `rm --delete-data`:
//
// A torrent's data directory is named by a clean absolute path, which the
// system resolves as usual: it may itself be, or lie below, a symbolic
// link (a mount point's alias). Below it archivd never follows a symbolic
// link, wherever it points (inside the directory or out of it): every
// component of a file's path is opened relative to its parent's
// descriptor with O_NOFOLLOW, so a link in place of a directory or a file
// is refused (ErrSymlink), and a link swapped in while archivd works
// cannot redirect it. Only regular files are opened (a directory, named
// pipe, socket or device in place of a file is refused, ErrNotRegular,
// without blocking). So what the scrubber reads good the store can serve,
// and nothing outside the data directory is read, written or deleted.

// ErrSymlink is returned (wrapped) when a component of a path below a
// data directory is a symbolic link.
var ErrSymlink = errors.New("symbolic link inside the data directory")

// ErrNotRegular is returned (wrapped) when a file's path names something
// that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Mode says how a file is opened.
type Mode int

const (
	// Read opens read-only (the scrubber, identity checks).
	Read Mode = iota
	// ReadWrite opens read-write, or read-only when the file cannot be
	// written (the store's reads: one cached descriptor serves both).
	ReadWrite
	// Create opens read-write, creating the file and its missing
	// directories (the data directory's missing parents included).
	Create
	// CreateInside is Create below a data directory that must exist: a
	// missing one is an error wrapping ErrDataDirMissing, never made
	// again (a torrent whose data was there: moved or unmounted).
	CreateInside
)

// ErrDataDirMissing is returned (wrapped) by OpenFile when the data
// directory itself does not exist (with Create it is made instead).
var ErrDataDirMissing = errors.New("data directory missing")

// SplitPath checks a catalog file path (relative, '/'-separated, no empty,
// "." or ".." component, no NUL or backslash) and returns its components.
func SplitPath(p string) ([]string, error) {
	if p == "" || path.IsAbs(p) || strings.ContainsRune(p, 0) || strings.ContainsRune(p, '\\') {
		return nil, fmt.Errorf("path %q is empty, absolute or contains NUL or backslash", p)
	}
	parts := strings.Split(p, "/")
	for _, c := range parts {
		if c == "" || c == "." || c == ".." {
			return nil, fmt.Errorf("path %q has an empty, \".\" or \"..\" component: it could leave the data directory", p)
		}
	}
	return parts, nil
}

// Root is an open data directory: the files below it are reached relative
// to its descriptor under the symlink policy above. Hold it for one piece
// of work (a scrub, a removal), not for ever: an open directory keeps its
// file system from being unmounted.
type Root struct {
	dir string
	fd  int
}

// OpenRoot opens the data directory dir. A missing one gives an error
// wrapping fs.ErrNotExist.
func OpenRoot(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", dir, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	return &Root{dir: dir, fd: fd}, nil
}

// Dir is the data directory's path.
func (r *Root) Dir() string { return r.dir }

// Close closes the directory.
func (r *Root) Close() error { return unix.Close(r.fd) }

// OpenFile opens the file at catalog path rel below dir: OpenRoot, then
// Root.OpenFile (with Create, dir and its missing parents are created
// first), then the directory is closed again. created lists the
// directories whose entries changed (to fsync before trusting new files).
func OpenFile(dir, rel string, m Mode) (f *os.File, created []string, err error) {
	if m == Create {
		if created, err = mkdirAll(dir); err != nil {
			return nil, nil, err
		}
	}
	r, err := OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w (moved away or unmounted?)", ErrDataDirMissing, err)
		}
		return nil, nil, err
	}
	defer r.Close()
	f, more, err := r.OpenFile(rel, m)
	return f, append(created, more...), err
}

// OpenFile opens the regular file at catalog path rel, one component at a
// time, never following a link. With Create, missing directories and the
// file are created and created lists the directories whose entries
// changed. Errors are *fs.PathError naming the full path of what failed.
func (r *Root) OpenFile(rel string, m Mode) (f *os.File, created []string, err error) {
	parts, err := SplitPath(rel)
	if err != nil {
		return nil, nil, fmt.Errorf("open in %s: %w", r.dir, err)
	}
	dfd, dir, err := r.walk(parts[:len(parts)-1], m == Create || m == CreateInside, &created)
	if err != nil {
		return nil, nil, err
	}
	defer r.closeDir(dfd)
	name := parts[len(parts)-1]
	fd, made, err := openLeafAt(dfd, name, m)
	if err != nil {
		return nil, nil, describe(dfd, filepath.Join(dir, name), err)
	}
	if made {
		created = append(created, dir)
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, name)), created, nil
}

// walk opens the directories parts below the root, each relative to its
// parent with O_NOFOLLOW, and returns the last one's descriptor (the
// root's own for none; release it with closeDir) and path. With create,
// missing directories are made and their parents appended to created.
func (r *Root) walk(parts []string, create bool, created *[]string) (fd int, dir string, err error) {
	fd, dir = r.fd, r.dir
	for _, c := range parts {
		next, made, err := openDirAt(fd, c, create)
		if err != nil {
			err = describe(fd, filepath.Join(dir, c), err)
			r.closeDir(fd)
			return -1, "", err
		}
		r.closeDir(fd)
		if made {
			*created = append(*created, dir)
		}
		fd, dir = next, filepath.Join(dir, c)
	}
	return fd, dir, nil
}

func (r *Root) closeDir(fd int) {
	if fd != r.fd {
		unix.Close(fd)
	}
}

// mkdirAll creates dir and its missing parents and returns the
// directories whose entries changed (the parent of each one created).
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	parents := make([]string, len(missing))
	for i, d := range missing {
		parents[i] = filepath.Dir(d)
	}
	return parents, nil
}

func openDirAt(dfd int, name string, create bool) (fd int, made bool, err error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err = unix.Openat(dfd, name, flags, 0)
	if err == unix.ENOENT && create {
		if err = unix.Mkdirat(dfd, name, 0o755); err != nil && err != unix.EEXIST {
			return -1, false, err
		}
		made = err == nil
		fd, err = unix.Openat(dfd, name, flags, 0)
	}
	return fd, made, err
}

// openLeafAt opens a regular file never following a link. O_NONBLOCK
// keeps a named pipe from blocking the open; it is cleared once the file
// is known to be regular.
func openLeafAt(dfd int, name string, m Mode) (fd int, made bool, err error) {
	base := unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	switch m {
	case Read:
		fd, err = unix.Openat(dfd, name, base|unix.O_RDONLY, 0)
	case ReadWrite:
		fd, err = unix.Openat(dfd, name, base|unix.O_RDWR, 0)
		if err == unix.EACCES || err == unix.EROFS {
			fd, err = unix.Openat(dfd, name, base|unix.O_RDONLY, 0)
		}
	case Create, CreateInside:
		fd, err = unix.Openat(dfd, name, base|unix.O_RDWR, 0)
		if err == unix.ENOENT {
			fd, err = unix.Openat(dfd, name, base|unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o644)
			made = err == nil
			if err == unix.EEXIST {
				fd, err = unix.Openat(dfd, name, base|unix.O_RDWR, 0)
			}
		}
	}
	if err == unix.EISDIR { // opening a directory for writing
		err = notRegular(unix.S_IFDIR)
	}
	if err != nil {
		return -1, false, err
	}
	var st unix.Stat_t
	if err = unix.Fstat(fd, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		err = notRegular(st.Mode)
	}
	if err == nil {
		// F_SETFL changes only the status flags: 0 clears O_NONBLOCK.
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, 0)
	}
	if err != nil {
		unix.Close(fd)
		return -1, false, err
	}
	return fd, made, nil
}

// describe turns an error opening p (name in directory dfd) into a
// *fs.PathError that says what was refused: O_NOFOLLOW gives ELOOP on a link, and
// O_DIRECTORY|O_NOFOLLOW ENOTDIR on a link to a directory.
func describe(dfd int, p string, err error) error {
	if err == unix.ELOOP || err == unix.ENOTDIR {
		var st unix.Stat_t
		if unix.Fstatat(dfd, filepath.Base(p), &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			err = fmt.Errorf("%w (refusing to follow it)", ErrSymlink)
		}
	}
	return &os.PathError{Op: "open", Path: p, Err: err}
}

// notRegular names what is there instead of a regular file.
func notRegular(mode uint32) error {
	what := "a special file"
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		what = "a directory"
	case unix.S_IFIFO:
		what = "a named pipe"
	case unix.S_IFSOCK:
		what = "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		what = "a device"
	}
	return fmt.Errorf("is %s, %w", what, ErrNotRegular)
}

// SameFile tells whether f is the file at catalog path rel below dir
// (same device and inode), reached without following links: false when a
// file deleted, replaced or moved away was opened, or when a link is now
// in its path. The error says why it is not, or what failed.
func SameFile(dir, rel string, f *os.File) (bool, error) {
	r, err := OpenRoot(dir)
	if err != nil {
		return false, err
	}
	defer r.Close()
	parts, err := SplitPath(rel)
	if err != nil {
		return false, err
	}
	at, err := r.lstat(parts)
	if err != nil {
		return false, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	if at.Mode&unix.S_IFMT == unix.S_IFLNK {
		return false, &os.PathError{Op: "open", Path: filepath.Join(dir, rel), Err: fmt.Errorf("%w (refusing to follow it)", ErrSymlink)}
	}
	return at.Dev == st.Dev && at.Ino == st.Ino, nil
}

// lstat stats what is at parts, walking to it without following links
// and not following a link at the end either.
func (r *Root) lstat(parts []string) (unix.Stat_t, error) {
	var st unix.Stat_t
	dfd, dir, err := r.walk(parts[:len(parts)-1], false, nil)
	if err != nil {
		return st, err
	}
	defer r.closeDir(dfd)
	name := parts[len(parts)-1]
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &os.PathError{Op: "lstat", Path: filepath.Join(dir, name), Err: err}
	}
	return st, nil
}
