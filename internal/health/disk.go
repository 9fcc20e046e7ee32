package health

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/archivd/archivd/internal/human"
	"golang.org/x/sys/unix"
)

// Space is the free space of one file system holding data roots.
type Space struct {
	Roots []string `json:"roots"` // the data roots on it
	Avail uint64   `json:"avail_bytes"`
	Size  uint64   `json:"size_bytes"`
	// Device identifies the file system (st_dev).
	Device uint64 `json:"-"`
}

// FreeRatio is the share of the file system still available.
func (s Space) FreeRatio() float64 {
	if s.Size == 0 {
		return 1
	}
	return float64(s.Avail) / float64(s.Size)
}

// Spaces measures the file systems under roots, one entry per file system
// (by device). A root that does not exist is measured at its nearest
// existing parent: a data root about to be created fills that one.
func Spaces(roots []string) []Space {
	byDev := map[uint64]int{}
	var out []Space
	slices.Sort(roots)
	for _, root := range slices.Compact(roots) {
		if root == "" {
			continue
		}
		dir := existingParent(root)
		var st unix.Stat_t
		var fs unix.Statfs_t
		if unix.Stat(dir, &st) != nil || unix.Statfs(dir, &fs) != nil {
			continue
		}
		dev := uint64(st.Dev)
		if i, ok := byDev[dev]; ok {
			out[i].Roots = append(out[i].Roots, root)
			continue
		}
		byDev[dev] = len(out)
		out = append(out, Space{Roots: []string{root}, Device: dev, Avail: fs.Bavail * uint64(fs.Bsize), Size: fs.Blocks * uint64(fs.Bsize)})
	}
	return out
}

func existingParent(p string) string {
	p = filepath.Clean(p)
	for {
		if _, err := os.Stat(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}

// checkDisks raises DISK_FULL (ERR) and DATA_ROOT_LOW_SPACE (WARN).
func (e *Evaluator) checkDisks(roots []string, r *Report) {
	cfg := e.config()
	var full, low []Space
	for _, s := range Spaces(roots) {
		switch {
		case cfg.FullSpace.Below(s.Avail, s.Size):
			full = append(full, s)
		case cfg.LowSpace.Below(s.Avail, s.Size):
			low = append(low, s)
		}
	}
	if len(full) > 0 {
		r.add(e.spaceCheck(DiskFull, Err, full, fmt.Sprintf("less than %s free (health.full_space): downloads and repairs fail", cfg.FullSpace)))
	}
	if len(low) > 0 {
		r.add(e.spaceCheck(DataRootLowSpace, Warn, low, fmt.Sprintf("less than %s free (health.low_space)", cfg.LowSpace)))
	}
}

func (e *Evaluator) spaceCheck(code string, sev Severity, ss []Space, what string) Check {
	c := Check{Code: code, Severity: sev, Count: len(ss),
		Summary: fmt.Sprintf("%s %s", plural(len(ss), "file system with data roots has", "file systems with data roots have"), what),
		Hint:    "free space there, or move collections to another data root"}
	var dirs []string
	for _, s := range ss {
		c.Detail = append(c.Detail, fmt.Sprintf("%s free of %s (%.1f%%): %v",
			human.Bytes(int64(s.Avail)), human.Bytes(int64(s.Size)), s.FreeRatio()*100, s.Roots))
		dirs = append(dirs, existingParent(s.Roots[0]))
	}
	c.Command = "df -h " + shellJoin(dirs)
	return c
}
