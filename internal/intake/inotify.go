// Package intake watches directories for .torrent files that are complete:
// written and closed (IN_CLOSE_WRITE) or renamed in (IN_MOVED_TO), never a
// file still being written. Linux inotify, through golang.org/x/sys/unix.
package intake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchMask: a file finished by its writer, or moved in whole.
const watchMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_ONLYDIR

// Watcher reports the directories in which a .torrent file was finished.
type Watcher struct {
	f     *os.File
	mu    sync.Mutex
	dirs  map[int32]string // watch descriptor -> directory
	ready chan string      // directory with a finished .torrent
}

// New starts an inotify instance watching dirs. A directory that cannot be
// watched (missing) is an error naming it; the others are watched.
func New(dirs []string) (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("intake: inotify: %w", err)
	}
	// Non-blocking: reads go through the runtime poller, so Close ends Run.
	w := &Watcher{f: os.NewFile(uintptr(fd), "inotify"), dirs: map[int32]string{}, ready: make(chan string, 64)}
	var errs []error
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, watchMask)
		if err != nil {
			errs = append(errs, fmt.Errorf("intake: watch %s: %w", d, err))
			continue
		}
		w.dirs[int32(wd)] = d
	}
	return w, errors.Join(errs...)
}

// Ready delivers a directory each time a .torrent in it is finished.
func (w *Watcher) Ready() <-chan string { return w.ready }

// Run reads events until ctx ends, then closes the instance.
func (w *Watcher) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = w.f.Close() })
	defer stop()
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("intake: read inotify events: %w", err)
		}
		w.dispatch(ctx, buf[:n])
	}
}

// Close releases the instance when Run is never called.
func (w *Watcher) Close() error { return w.f.Close() }

func (w *Watcher) dispatch(ctx context.Context, b []byte) {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(b) {
			return
		}
		name := strings.TrimRight(string(b[unix.SizeofInotifyEvent:end]), "\x00")
		b = b[end:]
		w.mu.Lock()
		dir, ok := w.dirs[ev.Wd]
		if ev.Mask&unix.IN_IGNORED != 0 {
			delete(w.dirs, ev.Wd) // the directory is gone
		}
		w.mu.Unlock()
		if !ok || ev.Mask&unix.IN_ISDIR != 0 || filepath.Ext(name) != ".torrent" {
			continue
		}
		select {
		case w.ready <- dir:
		case <-ctx.Done():
			return
		}
	}
}
