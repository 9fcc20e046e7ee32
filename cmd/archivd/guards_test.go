package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadCommandsDoNotCreateACatalog(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	args := []string{"--state-dir", state}
	for _, cmd := range [][]string{{"list"}, {"show", "x"}, {"report"}, {"verify", "status"}, {"collection", "list"},
		{"pause", "x"}, {"rm", "x"}, {"verify"}} {
		code, _, errs := runCLI(append(args, cmd...)...)
		want := "archivd: " + strings.Join(cmd[:min(len(cmd), 2)], " ")
		if cmd[0] == "show" || cmd[0] == "pause" || cmd[0] == "rm" {
			want = "archivd: " + cmd[0]
		}
		if code != exitNotFound || !strings.HasPrefix(errs, want) || strings.Count(errs, "\n") != 1 ||
			!strings.Contains(errs, "state directory "+state+" holds no embedded catalog") || !strings.Contains(errs, "archivd migrate") {
			t.Errorf("%v: exit %d, stderr %q", cmd, code, errs)
		}
		if _, err := os.Stat(filepath.Join(state, "postgres")); !os.IsNotExist(err) {
			t.Fatalf("%v created %s/postgres (%v)", cmd, state, err)
		}
	}
}
