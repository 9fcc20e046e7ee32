package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrNotServing: no archivd serve holds the state directory.
var ErrNotServing = errors.New("no archivd serve is running")

// ServePID is the PID of the archivd serve holding dir's state lock. A
// lock file nobody holds (a stopped daemon's) is ErrNotServing.
func ServePID(dir string) (int, error) {
	path := filepath.Join(dir, stateLockName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%w on state directory %s (no %s)", ErrNotServing, dir, path)
	}
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0, fmt.Errorf("%w on state directory %s (%s is not locked)", ErrNotServing, dir, path)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readHolder(f)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("state lock %s names no PID", path)
	}
	return pid, nil
}
