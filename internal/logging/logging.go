// Package logging builds archivd's zerolog logger: JSON for machines
// (journald, files, pipes), a readable console format on a terminal, with
// sd-daemon priority prefixes when stderr is the journal, and a level that
// can change while the daemon runs.
package logging

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// TimeFormat is the format of the "time" field: RFC 3339 in milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Milliseconds: a start (catalog, migration, imports, seeder, hashing)
// is a matter of a second or two, and its steps must be told apart. Set
// once, before any logger is used (zerolog reads it at every line).
func init() { zerolog.TimeFieldFormat = TimeFormat }

// New returns a logger writing to w at level (trace|debug|info|warn|error)
// in format auto (console when w is a terminal, else JSON), json or console.
func New(level, format string, w io.Writer) (zerolog.Logger, error) {
	log, _, err := Setup(level, format, w, nil)
	return log, err
}

// Setup is New for a process: env is its environment, and when its
// JOURNAL_STREAM names w (systemd connected stderr to the journal) every
// line starts with its priority (<3> error ... <7> debug), so that
// `journalctl -p warning` selects warnings and errors. The returned Level
// changes the level of this logger and of every logger derived from it.
func Setup(level, format string, w io.Writer, env []string) (zerolog.Logger, *Level, error) {
	lvl := &Level{}
	if err := lvl.Set(level); err != nil {
		return zerolog.Nop(), nil, err
	}
	var out io.Writer
	switch format {
	case "json":
		out = w
	case "console":
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: !IsTerminal(w)}
	case "auto", "":
		out = w
		if IsTerminal(w) {
			out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
		}
	default:
		return zerolog.Nop(), nil, fmt.Errorf("logging: format %q is not one of auto, json, console", format)
	}
	fw := &filterWriter{out: out, w: w, level: lvl, journal: IsJournal(w, env)}
	// The logger itself lets every level through: filterWriter applies the
	// live level, so that a reload reaches loggers already handed out.
	return zerolog.New(fw).Level(zerolog.TraceLevel).With().Timestamp().Logger(), lvl, nil
}

// IsTerminal reports whether w is a terminal (a *os.File on a tty).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// processStart is when the process started, near enough: this package is
// initialised before main runs.
var processStart = time.Now()

// UpMs is the time since the process started, in milliseconds: the
// "up_ms" field of the lines that mark a start's steps (catalog ready,
// torrent_dir imported, seeder starting, first full reconcile, data
// adopted, every torrent seeding).
func UpMs() int64 { return time.Since(processStart).Milliseconds() }
