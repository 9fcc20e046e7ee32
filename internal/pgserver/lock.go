package pgserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Several archivd processes (the daemon, CLI commands) share one embedded
// cluster. Two lock files in Dir coordinate them:
//   - ctl.lock, exclusive, around every start and stop, so that two
//     processes never run pg_ctl start (or start and stop) at once;
//   - users.lock, shared by every process while it uses the cluster.
//
// The last user out stops the cluster: Close takes ctl.lock and stops only
// if it can take users.lock exclusively. A killed process's locks vanish
// with it.
const (
	ctlLock   = "ctl.lock"
	usersLock = "users.lock"
)

// flock opens (creating) path and locks it; how is unix.LOCK_SH or
// unix.LOCK_EX, with unix.LOCK_NB to fail instead of waiting.
func flock(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != unix.EWOULDBLOCK || how&unix.LOCK_NB != 0 {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", filepath.Base(path), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Server) lockCtl(ctx context.Context) (func(), error) {
	f, err := flock(ctx, filepath.Join(s.opts.Dir, ctlLock), unix.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: lock %s: %w", s.opts.Dir, err)
	}
	return func() { f.Close() }, nil
}

// Close ends this process's use of the cluster and stops it if no other
// archivd process uses it. Safe to call once; Stop stops unconditionally.
func (s *Server) Close(ctx context.Context) error {
	if s.users == nil {
		return nil
	}
	s.users.Close()
	s.users = nil
	unlock, err := s.lockCtl(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := flock(ctx, filepath.Join(s.opts.Dir, usersLock), unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		return nil // another archivd process still uses it
	}
	defer f.Close()
	return s.Stop(ctx)
}
