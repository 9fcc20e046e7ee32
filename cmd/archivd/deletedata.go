package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/archivd/archivd/internal/catalog"
)

type deleteResult struct {
	files, dirs int
	skipped     []string // what was left and why
}

// deleteTorrentData deletes exactly the given files below dataDir, then the
// directories inside dataDir that became empty (and dataDir itself when the
// torrent owns it: multi-file). It never follows a symbolic link: a path
// whose directories include a symlink is left alone, and a symlink in
// place of a file is not deleted.
func deleteTorrentData(dataDir string, files []catalog.File, ownsDir bool) (deleteResult, error) {
	var res deleteResult
	dirs := map[string]bool{}
	for _, f := range files {
		p, err := safeJoin(dataDir, f.Path)
		if err != nil {
			res.skipped = append(res.skipped, err.Error())
			continue
		}
		removed, why, err := removeFile(dataDir, p)
		if err != nil {
			return res, err
		}
		if !removed {
			if why != "" {
				res.skipped = append(res.skipped, why)
			}
			continue
		}
		res.files++
		for d := filepath.Dir(p); d != dataDir && strings.HasPrefix(d, dataDir+string(filepath.Separator)); d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	if ownsDir {
		dirs[dataDir] = true
	}
	res.dirs = removeEmptyDirs(dirs)
	return res, nil
}

// safeJoin joins a catalog path ('/'-separated, relative) to dataDir and
// refuses anything that would leave it.
func safeJoin(dataDir, rel string) (string, error) {
	if rel == "" || strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("%q: not a relative path", rel)
	}
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("%q: unsafe path", rel)
		}
	}
	return filepath.Join(dataDir, filepath.FromSlash(rel)), nil
}

// removeFile deletes p if it is a regular file reached through real
// directories only. removed=false with a reason when it was left.
func removeFile(dataDir, p string) (removed bool, why string, err error) {
	rel, _ := filepath.Rel(dataDir, filepath.Dir(p))
	d := dataDir
	if rel != "." {
		for _, c := range strings.Split(rel, string(filepath.Separator)) {
			d = filepath.Join(d, c)
			fi, err := os.Lstat(d)
			if errors.Is(err, fs.ErrNotExist) {
				return false, "", nil // already gone
			}
			if err != nil {
				return false, "", fmt.Errorf("inspect %s: %w", d, err)
			}
			if !fi.IsDir() {
				return false, fmt.Sprintf("%s: %s is not a directory (symlinks are not followed)", p, d), nil
			}
		}
	}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("inspect %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Sprintf("%s: not a regular file (%s)", p, fi.Mode().Type()), nil
	}
	if err := os.Remove(p); err != nil {
		return false, "", fmt.Errorf("delete %s: %w", p, err)
	}
	return true, "", nil
}

// removeEmptyDirs removes the directories that are empty, deepest first;
// rmdir refuses non-empty ones and does not follow symlinks.
func removeEmptyDirs(dirs map[string]bool) int {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	n := 0
	for _, d := range list {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			continue
		}
		if err := syscall.Rmdir(d); err == nil {
			n++
		}
	}
	return n
}
