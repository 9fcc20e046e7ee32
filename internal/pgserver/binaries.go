// Package pgserver runs a private PostgreSQL cluster from the host's
// PostgreSQL binaries (initdb, pg_ctl, postgres). It backs archivd's embedded
// default (no database URL configured) and the throwaway clusters of tests.
//
// The cluster listens on a unix socket only. When the calling process is
// root, PostgreSQL (which refuses to run as root) is run as an unprivileged
// user: "postgres" where it exists, else "nobody".
package pgserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoBinaries is returned when initdb/pg_ctl cannot be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install them with 'apt-get install postgresql' or set database.embedded_bin_dir")

// FindBinDir returns the directory holding initdb, pg_ctl and postgres.
// hint, when not empty, is the only place looked at. Otherwise PATH is
// searched, then `pg_config --bindir`, then /usr/lib/postgresql/*/bin
// (newest version first).
func FindBinDir(hint string) (string, error) {
	if hint != "" {
		if hasBinaries(hint) {
			return hint, nil
		}
		return "", fmt.Errorf("database.embedded_bin_dir %q does not hold initdb, pg_ctl and postgres", hint)
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(resolve(p))
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, dir := range dirs {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func resolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func versionOf(binDir string) int {
	var v int
	fmt.Sscanf(filepath.Base(filepath.Dir(binDir)), "%d", &v)
	return v
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
