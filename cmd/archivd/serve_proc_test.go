package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// archivdBinary builds this command once per test binary.
func archivdBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := exec.Command("mktemp", "-d").Output()
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(strings.TrimSpace(string(dir)), "archivd")
		out, err := exec.Command("go", "build", "-trimpath", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{out: string(out), err: err}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// lockedBuffer is the daemon's stderr, written by exec's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveProc is a real archivd serve process.
type serveProc struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan error
}

func startServe(t *testing.T, bin, config string) *serveProc {
	t.Helper()
	p := &serveProc{cmd: exec.Command(bin, "--config", config, "serve"), log: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
	})
	p.waitLine(t, "archivd serving", nil)
	return p
}

// lines parses the daemon's JSON log lines.
func (p *serveProc) lines() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.log.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// waitLine waits up to 60 s for a log line with message msg for which ok
// (nil = any) holds, and returns it.
func (p *serveProc) waitLine(t *testing.T, msg string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	done := false
	defer func() {
		if !done {
			t.Logf("serve's log:\n%s", p.log.String())
		}
	}()
	testutil.Eventually(t, 60*time.Second, fmt.Sprintf("log line %q", msg), func() bool {
		for _, l := range p.lines() {
			if l["message"] == msg && (ok == nil || ok(l)) {
				found = l
				return true
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("serve exited (%v) before logging %q:\n%s", err, msg, p.log.String())
		default:
		}
		return false
	})
	done = true
	return found
}

// stop sends SIGTERM and requires a clean exit.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, p.log.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatal("serve did not stop within 90s of SIGTERM")
	}
}
