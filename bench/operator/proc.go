package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a started process: its output goes to a log file and is kept
// line by line (with the time each line arrived) for waitLine.
type proc struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error

	mu    sync.Mutex
	lines []line
}

type line struct {
	at   time.Time
	text string
}

// start runs bin with args; the process is stopped by PID at cleanup.
func (b *bench) start(name string, env []string, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(b.path("logs", name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(b.ctx, bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	b.procs = append(b.procs, p)
	go func() {
		p.read(io.TeeReader(out, logf))
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, line{time.Now(), sc.Text()})
		p.mu.Unlock()
	}
}

// waitLine waits for the first output line (from line from on) that match
// accepts and returns the time it arrived and its index.
func (p *proc) waitLine(ctx context.Context, from int, timeout time.Duration, match func(string) bool) (time.Time, int, error) {
	end := time.Now().Add(timeout)
	for i := from; ; {
		exited := p.exited() // checked before the scan: lines are all in by then
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if match(p.lines[i].text) {
				at := p.lines[i].at
				p.mu.Unlock()
				return at, i, nil
			}
		}
		p.mu.Unlock()
		if exited {
			return time.Time{}, 0, fmt.Errorf("%s exited (%v) before the awaited line; see logs/%s.log", p.name, p.err, p.name)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(end) {
			return time.Time{}, 0, fmt.Errorf("%s: awaited line not seen within %s; see logs/%s.log", p.name, timeout, p.name)
		}
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits for the exit.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		if sig == syscall.SIGTERM {
			return p.err
		}
		return nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s of %s: killed", p.name, timeout, sig)
	}
}

// wait waits for the process to exit by itself.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not finish within %s: killed", p.name, timeout)
	}
}

// cleanEnv drops ARCHIVD_* (archivd refuses unknown keys; the caller's
// settings must not leak into the nodes).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARCHIVD_") {
			env = append(env, kv)
		}
	}
	return env
}

// timed runs a command to its end and returns its wall time.
func (b *bench) timed(name string, bin string, args ...string) (time.Duration, error) {
	p, err := b.start(name, nil, bin, args...)
	if err != nil {
		return 0, err
	}
	if err := p.wait(time.Hour); err != nil {
		return 0, fmt.Errorf("%s: %w (see logs/%s.log)", name, err, name)
	}
	return time.Since(p.started), nil
}
