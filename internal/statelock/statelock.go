// Package statelock is the state directory's lock file: one archivd serve
// holds it for its whole life (Take), and the CLI asks it which process
// that is (ServePID).
package statelock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockFile is the lock file in state_dir that one serve holds for its
// whole life: two daemons on one state directory would share the embedded
// cluster, the data directory and the node's identity.
const lockFile = "archivd.lock"

// ErrLocked: another archivd serve holds the state directory.
var ErrLocked = errors.New("state directory in use")

// Take takes the state directory's lock (creating the directory)
// and writes this process's PID into it; unlock releases it. A second
// serve fails at once with an error naming the holder's PID.
func Take(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another archivd serve (pid %s) runs on state directory %s (lock %s)", ErrLocked, holder, dir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// readHolder is the PID the lock file's holder wrote, "unknown" if none.
func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := strings.TrimSpace(string(b[:n])); pid != "" {
		return pid
	}
	return "unknown"
}

// ErrNotServing: no archivd serve holds the state directory.
var ErrNotServing = errors.New("no archivd serve is running")

// ServePID is the PID of the archivd serve holding dir's state lock. A
// lock file nobody holds (a stopped daemon's) is ErrNotServing.
func ServePID(dir string) (int, error) {
	path := filepath.Join(dir, lockFile)
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
