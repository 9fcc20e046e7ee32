package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"golang.org/x/sys/unix"
)

// Removed is what RemoveFiles did.
type Removed struct {
	Files, Dirs int
	Kept        []string // what was left and why
}

// RemoveFiles deletes exactly the regular files at the given catalog paths
// below dir, then the directories below dir that became empty, deepest
// first, and dir itself when withDir (a multi-file torrent owns its data
// directory). Under the symlink policy: a file whose directories include a
// link is kept, a link (or anything not a regular file) in place of a file
// is kept, and each unlink and rmdir is made relative to a descriptor of
// its parent opened without following links, so a directory replaced by a
// link while files are removed cannot redirect a removal out of the data
// directory. A missing dir removes nothing. The error is an I/O error
// other than "already gone".
func RemoveFiles(dir string, files []string, withDir bool) (Removed, error) {
	var res Removed
	r, err := OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	defer r.Close()
	dirs := map[string]bool{}
	for _, f := range files {
		parts, err := SplitPath(f)
		if err != nil {
			res.Kept = append(res.Kept, err.Error())
			continue
		}
		removed, why, err := r.removeFile(parts)
		if err != nil {
			return res, err
		}
		if why != "" {
			res.Kept = append(res.Kept, why)
		}
		if removed {
			res.Files++
			for i := 1; i < len(parts); i++ {
				dirs[strings.Join(parts[:i], "/")] = true
			}
		}
	}
	res.Dirs = r.removeEmptyDirs(dirs)
	if withDir && unix.Rmdir(dir) == nil {
		res.Dirs++
	}
	return res, nil
}

// beforeUnlink, when set (by tests), runs between a file's checks and its
// unlink: the window in which a racing rename could swap a link in.
var beforeUnlink func(rel string)

// removeFile unlinks the regular file at parts. removed=false with a
// reason when it was kept; with neither, it was already gone.
func (r *Root) removeFile(parts []string) (removed bool, why string, err error) {
	rel := strings.Join(parts, "/")
	p := filepath.Join(r.dir, filepath.FromSlash(rel))
	dfd, dir, err := r.walk(parts[:len(parts)-1], false, nil)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return false, "", nil
		case errors.As(err, &pe) && (errors.Is(err, ErrSymlink) || pe.Err == unix.ENOTDIR):
			return false, fmt.Sprintf("%s: %s is not a directory (symlinks are not followed)", p, pe.Path), nil
		}
		return false, "", fmt.Errorf("inspect %s: %w", p, err)
	}
	defer r.closeDir(dfd)
	name := parts[len(parts)-1]
	var st unix.Stat_t
	err = unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("inspect %s: %w", p, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return false, fmt.Sprintf("%s: %v (not followed, not deleted)", p, ErrSymlink), nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, fmt.Sprintf("%s %v", p, notRegular(st.Mode)), nil
	}
	if beforeUnlink != nil {
		beforeUnlink(rel)
	}
	// unlinkat removes the name in the directory checked above, never a
	// link's target, wherever that directory has been moved meanwhile.
	if err := unix.Unlinkat(dfd, name, 0); err != nil {
		if err == unix.ENOENT {
			return false, "", nil
		}
		return false, "", fmt.Errorf("delete %s: %w", filepath.Join(dir, name), err)
	}
	return true, "", nil
}

// removeEmptyDirs removes the directories (catalog paths) that are empty,
// deepest first, each with rmdir relative to its parent's descriptor:
// rmdir refuses non-empty directories and links.
func (r *Root) removeEmptyDirs(dirs map[string]bool) int {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return strings.Count(list[i], "/") > strings.Count(list[j], "/") })
	n := 0
	for _, d := range list {
		parts := strings.Split(d, "/")
		dfd, _, err := r.walk(parts[:len(parts)-1], false, nil)
		if err != nil {
			continue
		}
		if unix.Unlinkat(dfd, parts[len(parts)-1], unix.AT_REMOVEDIR) == nil {
			n++
		}
		r.closeDir(dfd)
	}
	return n
}

// RemoveTorrent deletes torrent t's files (files are its catalog rows)
// from its data directory, as RemoveFiles does: the directory itself too
// when the torrent owns it (multi-file; a single-file torrent's one file,
// named like the torrent, lies directly in a directory it does not own).
// `rm --delete-data` and the removal of a replica the planner placed both
// go through it.
func RemoveTorrent(t catalog.Torrent, files []catalog.File) (Removed, error) {
	multi := !(len(files) == 1 && files[0].Path == t.Name)
	return RemoveFiles(t.DataDir, FilePaths(files), multi)
}
