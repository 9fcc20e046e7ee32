package pgserver

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
