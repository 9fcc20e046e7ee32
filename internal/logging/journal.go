package logging

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/rs/zerolog"
)

// Level is a log level that can change at run time (config reload).
type Level struct{ v atomic.Int32 }

// Set parses name (trace|debug|info|warn|error) and applies it.
func (l *Level) Set(name string) error {
	lvl, err := zerolog.ParseLevel(name)
	if err != nil || name == "" || lvl > zerolog.ErrorLevel {
		return fmt.Errorf("logging: level %q is not one of trace, debug, info, warn, error", name)
	}
	l.v.Store(int32(lvl))
	return nil
}

// Get is the level in force.
func (l *Level) Get() zerolog.Level { return zerolog.Level(l.v.Load()) }

// IsJournal reports whether w is the stream systemd named in the
// environment's JOURNAL_STREAM ("device:inode" of the journal's socket):
// then the journal reads a "<N>" prefix on each line as its priority.
func IsJournal(w io.Writer, env []string) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	var want string
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, "JOURNAL_STREAM="); found {
			want = v
		}
	}
	if want == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return want == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// Priority is the sd-daemon / syslog priority of a zerolog level.
func Priority(l zerolog.Level) int {
	switch l {
	case zerolog.TraceLevel, zerolog.DebugLevel:
		return 7 // debug
	case zerolog.InfoLevel, zerolog.NoLevel:
		return 6 // info
	case zerolog.WarnLevel:
		return 4 // warning
	case zerolog.ErrorLevel:
		return 3 // err
	case zerolog.FatalLevel:
		return 2 // crit
	}
	return 0 // panic: emerg
}

// filterWriter drops events below the live level and, for the journal,
// prefixes each line with its priority: out formats the event (JSON as is,
// or the console writer) and writes one line to w.
type filterWriter struct {
	out, w  io.Writer
	level   *Level
	journal bool
	mu      sync.Mutex // journal: the prefix and its line are written together
}

func (f *filterWriter) Write(p []byte) (int, error) { return f.out.Write(p) }

func (f *filterWriter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	if l < f.level.Get() && l != zerolog.NoLevel {
		return len(p), nil
	}
	if !f.journal {
		return f.out.Write(p)
	}
	prefix := fmt.Appendf(nil, "<%d>", Priority(l))
	if f.out == f.w { // JSON: one write
		if _, err := f.w.Write(append(prefix, p...)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(prefix); err != nil {
		return 0, err
	}
	return f.out.Write(p)
}
