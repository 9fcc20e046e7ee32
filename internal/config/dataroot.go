package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// CheckDataRoot refuses a directory that torrent data must not live in:
// the filesystem root, the state directory or a directory holding it, and
// anything inside the state directory except below its default data
// directory (state_dir/data): the embedded cluster lives there, and a
// torrent's data directory once became its PGDATA. The error names the
// offending path; callers prefix the key or flag.
func (c *Config) CheckDataRoot(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%q: %v", dir, err)
	}
	state, err := filepath.Abs(c.StateDir)
	if err != nil {
		return fmt.Errorf("state_dir %q: %v", c.StateDir, err)
	}
	switch {
	case abs == "/":
		return fmt.Errorf("%q is the filesystem root: give the data its own directory", dir)
	case within(state, abs):
		return fmt.Errorf("%q holds the state directory %s: give the data its own directory", dir, state)
	case within(abs, state) && !within(abs, filepath.Join(state, "data")):
		return fmt.Errorf("%q is inside the state directory %s (where the embedded database lives): choose a directory outside it, or below %s", dir, state, filepath.Join(state, "data"))
	}
	return nil
}

// within reports whether path is dir or below it (both absolute, clean).
func within(path, dir string) bool {
	if path == dir {
		return true
	}
	return strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// validateDataDirs checks data_dir and every collection's data_root.
func (c *Config) validateDataDirs() error {
	if c.DataDir != "" {
		if err := c.CheckDataRoot(c.DataDir); err != nil {
			return errorf("data_dir: %v", err)
		}
	}
	for i, cc := range c.Collections {
		if cc.DataRoot == "" {
			continue
		}
		if err := c.CheckDataRoot(cc.DataRoot); err != nil {
			return errorf("collections[%d].data_root: %v", i, err)
		}
	}
	return nil
}
