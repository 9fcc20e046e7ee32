package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/pgtest/rawsql"
)

// Replica policies: default 1/1, set per collection at create and later,
// overridden per torrent and back; bad input is one line, exit 2, no change.
func TestReplicaPolicyCommands(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	db := []string{"--database.url", url, "--data-dir", t.TempDir()}
	cli := func(args ...string) (int, string, string) {
		return runCLI(append(append([]string{}, db...), args...)...)
	}
	if code, out, errs := cli("collection", "create", "plain"); code != 0 || !strings.Contains(out, "replicas min 1, max 1") {
		t.Fatalf("create with defaults: %d %q %s", code, out, errs)
	}
	if code, out, errs := cli("collection", "create", "books", "--replicas-min", "2", "--replicas-max", "3"); code != 0 ||
		!strings.Contains(out, "replicas min 2, max 3") {
		t.Fatalf("create: %d %q %s", code, out, errs)
	}
	src := filepath.Join(t.TempDir(), "one")
	writeFile(t, filepath.Join(src, "f.txt"), "hello")
	if code, _, errs := cli("add", "-c", "books", src); code != 0 {
		t.Fatalf("add: %d %s", code, errs)
	}
	policy := func() string {
		return rawsql.String(t, url, `SELECT c.replicas_min || '/' || c.replicas_max || ' ' ||
			coalesce(t.replicas_min::text, '-') || '/' || coalesce(t.replicas_max::text, '-')
			FROM torrents t JOIN collections c ON c.id = t.collection_id`)
	}
	if got := policy(); got != "2/3 -/-" {
		t.Fatalf("policy after create: %s", got)
	}
	bad := []struct {
		args []string
		line string
	}{
		{[]string{"collection", "replicas", "books", "--replicas-min", "0"}, "archivd: collection replicas books: --replicas-min 0: must be at least 1"},
		{[]string{"collection", "replicas", "books", "--replicas-min", "4", "--replicas-max", "2"}, "archivd: collection replicas books: --replicas-min 4 is above --replicas-max 2"},
		{[]string{"collection", "replicas", "books", "--replicas-min", "4"}, "archivd: collection replicas books: set replicas of collection \"books\": replicas_min must be at least 1 and at most replicas_max"},
		{[]string{"replicas", "one"}, "archivd: replicas: give --replicas-min, --replicas-max or --inherit"},
		{[]string{"replicas", "one", "--inherit", "--replicas-min", "2"}, "archivd: replicas: --inherit goes alone, without --replicas-min or --replicas-max"},
		{[]string{"replicas", "one", "--replicas-min", "0"}, "archivd: replicas: --replicas-min 0: must be at least 1"},
		{[]string{"replicas", "nope", "--replicas-min", "2"}, ""},
		{[]string{"replicas"}, "archivd: replicas: want at least one torrent NAME or INFOHASH"},
	}
	for _, c := range bad {
		code, _, errs := cli(c.args...)
		if c.line == "" { // unknown torrent
			if code != exitNotFound || strings.Count(errs, "\n") != 1 {
				t.Errorf("%v: exit %d %q, want %d and one line", c.args, code, errs, exitNotFound)
			}
			continue
		}
		if code != exitUsage || strings.TrimSpace(errs) != c.line {
			t.Errorf("%v: exit %d %q, want %d %q", c.args, code, errs, exitUsage, c.line)
		}
		if got := policy(); got != "2/3 -/-" {
			t.Fatalf("%v changed the policy: %s", c.args, got)
		}
	}
	if code, out, errs := cli("collection", "replicas", "books", "--replicas-min", "3"); code != 0 || !strings.Contains(out, "replicas min 3, max 3") {
		t.Fatalf("collection replicas: %d %q %s", code, out, errs)
	}
	if code, out, errs := cli("collection", "replicas", "books"); code != 0 || out != "collection books: replicas min 3, max 3\n" {
		t.Fatalf("collection replicas without flags: %d %q %s", code, out, errs)
	}
	if code, out, errs := cli("collection", "show", "books"); code != 0 || !strings.Contains(out, "replicas:    min 3, max 3") {
		t.Fatalf("collection show: %d %q %s", code, out, errs)
	}
	if code, out, errs := cli("replicas", "one", "--replicas-min", "1", "--replicas-max", "2"); code != 0 ||
		!strings.Contains(out, "replicas min 1, max 2 (its own)") {
		t.Fatalf("replicas: %d %q %s", code, out, errs)
	}
	if got := policy(); got != "3/3 1/2" {
		t.Fatalf("policy after set: %s", got)
	}
	if code, out, errs := cli("replicas", "one", "--inherit"); code != 0 || !strings.Contains(out, "replicas min 3, max 3 (its collection's)") {
		t.Fatalf("replicas --inherit: %d %q %s", code, out, errs)
	}
	if got := policy(); got != "3/3 -/-" {
		t.Fatalf("policy after inherit: %s", got)
	}
}
