package pgserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// postmaster reads the postmaster's PID from postmaster.pid and reports
// whether that process runs: it exists, is not a zombie (dead, waiting to
// be reaped: kill(pid, 0) and `pg_ctl status` still see it) and is a
// postgres process (not another program that got the PID of a killed
// postmaster). pid is 0 when there is no pid file.
func (s *Server) postmaster() (pid int, alive bool) {
	raw, err := os.ReadFile(filepath.Join(s.dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processRuns(pid, "postgres")
}

// processRuns reads /proc/PID/stat: "pid (comm) state ...".
func processRuns(pid int, comm string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open || end+2 >= len(stat) {
		return false
	}
	state := stat[end+2]
	return string(stat[open+1:end]) == comm && state != 'Z' && state != 'X'
}

// waitForOrphans waits (up to limit) until no live process works in the
// data directory any more: when a postmaster is killed, its backends
// (checkpointer, walwriter, ...) notice and exit a moment later, and until
// they have, a new postmaster refuses to start ("pre-existing shared
// memory block is still in use"). Every postgres process of a cluster has
// the data directory as its working directory.
func (s *Server) waitForOrphans(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		pid := s.orphan()
		if pid == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("embedded postgres: process %d of an earlier postmaster still works in %s after %v", pid, s.dataDir, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// orphan returns the PID of a live postgres process whose working
// directory is the data directory, or 0.
func (s *Server) orphan() int {
	dirs := []string{s.dataDir}
	if real, err := filepath.EvalSymlinks(s.dataDir); err == nil && real != s.dataDir {
		dirs = append(dirs, real)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join(p, "cwd")); err == nil && slices.Contains(dirs, cwd) && processRuns(pid, "postgres") {
			return pid
		}
	}
	return 0
}
