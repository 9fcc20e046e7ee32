package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/catalogopen"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/importer"
)

// Exit codes, documented in the root command's help.
const (
	exitOK       = 0
	exitFailure  = 1 // anything else: database unreachable, I/O error
	exitUsage    = 2 // bad flags or arguments, invalid configuration, bad input (a malformed torrent, an unsafe path, a v2-only torrent)
	exitNotFound = 3 // a named collection, torrent or file does not exist, or no catalog in the state directory
	exitConflict = 4 // already exists, overlapping data, collection not empty
	exitSchema   = 5 // database schema is not current: run 'archivd migrate'
	exitDamage   = 6 // verify --wait/--offline found damage that is not repaired; resume found a torrent's data still gone
)

const exitCodesHelp = `Exit codes:
  0  success
  1  failure (database unreachable, I/O error, ...)
  2  usage error, invalid configuration or bad input (malformed torrent, unsafe path, v2-only torrent)
  3  not found (collection, torrent, file; no catalog in the state directory)
  4  conflict (already exists, overlapping data, collection not empty)
  5  database schema not current: run 'archivd migrate'
  6  verification found damaged data that is not repaired (verify --wait, --offline),
     or resume found an unavailable torrent's data still missing or bad

'archivd health' exits with the worst severity instead: 0 OK, 1 WARN, 2 ERR.`

// codeError carries an exit code chosen where the error is made.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codeError{code: code, err: err}
}

func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// runError marks errors returned by a command's run function, so that
// everything else cobra returns (unknown flags, commands) is a usage error.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// exitCode maps an error to the process exit code: the one place where
// errors become codes.
func exitCode(err error) int {
	var ce *codeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, config.ErrInvalid), errors.Is(err, importer.ErrUnsupported):
		// A torrent archivd cannot seed (v2-only) is bad input too.
		return exitUsage
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, fs.ErrNotExist), errors.Is(err, catalogopen.ErrNoCatalog):
		return exitNotFound
	case errors.Is(err, catalog.ErrExists), errors.Is(err, catalog.ErrNotEmpty), errors.Is(err, fs.ErrExist),
		errors.Is(err, importer.ErrOverlap):
		return exitConflict
	}
	return exitFailure
}

// commandExitCode is exitCode for what cobra's Execute returned: an error
// that did not come from a command's run function is cobra's complaint
// about the command line (unknown command or flag, wrong arguments).
func commandExitCode(err error) int {
	code := exitCode(err)
	var re *runError
	if code == exitFailure && !errors.As(err, &re) {
		return exitUsage
	}
	return code
}

// errorLine renders err as the single line printed on stderr.
func errorLine(err error) string {
	s := strings.ReplaceAll(err.Error(), ":\n", ": ")
	s = strings.ReplaceAll(s, ": catalog: ", ": ")
	s = strings.TrimPrefix(s, "catalog: ")
	return "archivd: " + strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
