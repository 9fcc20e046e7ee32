package torrentfile

import (
	"errors"
	"fmt"
	"strings"
)

// checkComponent says what is wrong with one path component, or nil. The
// message completes a sentence that starts with the quoted path.
func checkComponent(c string) error {
	switch {
	case c == "":
		return errors.New("has an empty component")
	case c == "..":
		return errors.New("leaves the torrent directory")
	case c == ".":
		return errors.New(`has a "." component`)
	case strings.HasPrefix(c, "/"):
		return errors.New("is absolute")
	case strings.Contains(c, "/"):
		return errors.New("has '/' inside a component")
	case strings.ContainsRune(c, 0):
		return errors.New("has a NUL byte")
	}
	return nil
}

// checkPath refuses a file path (list of components) that is empty or that
// has any unsafe component.
func checkPath(p []string) error {
	if len(p) == 0 {
		return errors.New("a file has an empty path")
	}
	if len(p) > 1 && p[0] == "" {
		return fmt.Errorf("file path %q is absolute", joinPath(p))
	}
	for _, c := range p {
		if err := checkComponent(c); err != nil {
			return fmt.Errorf("file path %q %s", joinPath(p), err)
		}
	}
	return nil
}

func joinPath(p []string) string { return strings.Join(p, "/") }

// checkAliases refuses two files that would be the same file on disk, and a
// file whose path is also a directory of another file ("a" and "a/b"). Paths
// were already checked component by component, so they are clean and plain
// string comparison is exact.
func checkAliases(files []File) error {
	seen := make(map[string]string, len(files))
	dirs := make(map[string]string)
	for _, f := range files {
		p := f.Path
		if _, ok := seen[p]; ok {
			return fmt.Errorf("file path %q appears twice", p)
		}
		if other, ok := dirs[p]; ok {
			return fmt.Errorf("file path %q is also the directory of file %q", p, other)
		}
		for i := 0; i < len(p); i++ {
			if p[i] != '/' {
				continue
			}
			if _, ok := seen[p[:i]]; ok {
				return fmt.Errorf("file path %q is also the directory of file %q", p[:i], p)
			}
			dirs[p[:i]] = p
		}
		seen[p] = p
	}
	return nil
}
