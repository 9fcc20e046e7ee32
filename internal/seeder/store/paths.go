package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrSymlink is returned (wrapped) when a path component inside a
// torrent's data directory is a symbolic link: archivd never follows one.
var ErrSymlink = errors.New("symbolic link inside the data directory")

// openFile opens dataDir/parts... without following any symlink below
// dataDir (every component is opened with O_NOFOLLOW relative to its
// parent's descriptor, so a swapped-in link cannot redirect us). With
// create, missing directories and the file are created, and created
// reports which directories need an fsync to make the new entries durable.
func openFile(dataDir string, parts []string, create bool) (f *os.File, created []string, err error) {
	rel := strings.Join(parts, "/")
	if create {
		made, err := mkdirAll(dataDir)
		if err != nil {
			return nil, nil, err
		}
		created = append(created, made...)
	}
	dfd, err := unix.Open(dataDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open data directory %s: %w", dataDir, &os.PathError{Op: "open", Path: dataDir, Err: err})
	}
	dir := dataDir
	for _, c := range parts[:len(parts)-1] {
		next, made, err := openDirAt(dfd, c, create)
		unix.Close(dfd)
		if err != nil {
			return nil, nil, fmt.Errorf("open %s in %s: %w", rel, dataDir, pathErr(filepath.Join(dir, c), err))
		}
		if made {
			created = append(created, dir)
		}
		dfd, dir = next, filepath.Join(dir, c)
	}
	defer unix.Close(dfd)
	name := parts[len(parts)-1]
	fd, err := openLeafAt(dfd, name, create)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s in %s: %w", rel, dataDir, pathErr(filepath.Join(dir, name), err))
	}
	if fd.made {
		created = append(created, dir)
	}
	return os.NewFile(uintptr(fd.fd), filepath.Join(dir, name)), created, nil
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

func pathErr(p string, err error) error {
	if err == unix.ELOOP || err == unix.ENOTDIR {
		// O_NOFOLLOW gives ELOOP on a link; O_DIRECTORY|O_NOFOLLOW may give
		// ENOTDIR on a link to a directory.
		if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s: %w (refusing to follow it)", p, ErrSymlink)
		}
	}
	return &os.PathError{Op: "open", Path: p, Err: err}
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

type leaf struct {
	fd   int
	made bool
}

// openLeafAt opens a regular file read-write (read-only when it is not
// writable and we only read), never following a link.
func openLeafAt(dfd int, name string, create bool) (leaf, error) {
	base := unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dfd, name, base|unix.O_RDWR, 0)
	if err == unix.ENOENT && create {
		fd, err = unix.Openat(dfd, name, base|unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o644)
		if err == nil {
			return leaf{fd: fd, made: true}, nil
		}
		if err == unix.EEXIST {
			fd, err = unix.Openat(dfd, name, base|unix.O_RDWR, 0)
		}
	}
	if (err == unix.EACCES || err == unix.EROFS) && !create {
		fd, err = unix.Openat(dfd, name, base|unix.O_RDONLY, 0)
	}
	if err != nil {
		return leaf{fd: -1}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return leaf{fd: -1}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return leaf{fd: -1}, fmt.Errorf("not a regular file (mode %o)", st.Mode)
	}
	return leaf{fd: fd}, nil
}

// syncDir makes a directory's entries durable (new files and subdirs).
func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}
