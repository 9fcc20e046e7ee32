package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/pgtest/rawsql"
	"github.com/archivd/archivd/migrations"
)

// runCLI runs the whole command line as main does.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunCommandLineEndToEnd(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	data := t.TempDir()
	db := []string{"--database.url", url, "--data-dir", data}
	if code, _, errs := runCLI(append(db, "collection", "create", "books", "--description", "b")...); code != 0 {
		t.Fatalf("collection create: %d %s", code, errs)
	}
	src := filepath.Join(t.TempDir(), "one")
	writeFile(t, filepath.Join(src, "f.txt"), "hello")
	if code, out, errs := runCLI(append(db, "add", "-c", "books", src)...); code != 0 || !strings.Contains(out, "added one") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	code, out, _ := runCLI(append(db, "list", "--json")...)
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0]["complete_pct"] != 100.0 {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out, _ = runCLI(append(db, "list")...)
	if code != 0 || !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "100.0%") {
		t.Fatalf("list table: %s", out)
	}
	cases := []struct {
		args []string
		code int
		line string
	}{
		{append(db, "list", "--collection", "nope"), exitNotFound, `archivd: list: collection "nope": not found`},
		{append(db, "show", "nope"), exitNotFound, `archivd: show nope: torrent "nope": not found`},
		{append(db, "rm"), exitUsage, "archivd: rm: want at least one torrent NAME or INFOHASH"},
		{append(db, "add", src), exitUsage, "archivd: add: --collection is required"},
		{append(db, "pause"), exitUsage, "archivd: pause: name torrents or give --collection"},
		{[]string{"bogus"}, exitUsage, `archivd: unknown command "bogus": see 'archivd --help'`},
		{[]string{"lsit"}, exitUsage, `archivd: unknown command "lsit"; did you mean "list"?`},
		{[]string{"collection", "lsit"}, exitUsage, `archivd: collection: unknown command "lsit"; did you mean "list"?`},
		{append(db, "show", "abc"), exitNotFound, `archivd: show abc: torrent "abc": not found: no torrent has this name, and an infohash prefix needs at least 8 hex digits`},
		{append(db, "list", "--nope"), exitUsage, "archivd: list: unknown flag: --nope"},
		{append(db, "add", "-c", "books", src), exitConflict, "PLACEHOLDER"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(c.args...)
		if c.line == "PLACEHOLDER" {
			c.line = "archivd: add " + src + ": data directory " + src + " would overlap the data directory " + src + ` of torrent "one" (collection books)`
		}
		if code != c.code || errs != c.line+"\n" {
			t.Errorf("%v: exit %d, stderr %q; want %d %q", c.args[len(db):], code, errs, c.code, c.line)
		}
	}
	if code, out, _ := runCLI("version"); code != 0 || !strings.Contains(out, "anacrolix/torrent v1.61.0") {
		t.Errorf("version: %d %s", code, out)
	}
}

func TestOutdatedSchemaIsRefusedExceptByMigrate(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	rawsql.Exec(t, url, "UPDATE archivd_schema_version SET version = 0")
	code, _, errs := runCLI("--database.url", url, "collection", "list")
	if code != exitSchema || errs != fmt.Sprintf("archivd: collection list: schema version 0 is outdated (latest %d): run 'archivd migrate' or set database.auto_migrate: true\n", migrations.Latest()) {
		t.Fatalf("list on old schema: %d %q", code, errs)
	}
	code, out, errs := runCLI("--database.url", url, "migrate", "--status")
	if code != 0 || out != fmt.Sprintf("schema version 0 of %d: %d migrations pending; run 'archivd migrate'\n", migrations.Latest(), migrations.Latest()) {
		t.Fatalf("migrate --status: %d %q %q", code, out, errs)
	}
}

// Invalid configuration is refused before the catalog is touched.
func TestInvalidConfigChangesNothing(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		writeFile(t, p, body)
		return p
	}
	e := &testEnv{url: url}
	before := e.counts(t)
	cases := []struct {
		name, cfg string
		env       []string
		line      string
	}{
		{"bad value", "network:\n  listen_port: 70000\n", nil, "archivd: config: network.listen_port: 70000 is not a port (0-65535)"},
		{"unknown key", "network:\n  listen_prot: 1\n", nil, `archivd: config: FILE:2: unknown key "network.listen_prot"`},
		{"unknown env", "", []string{"ARCHIVD_DATABSE_URL", "x"}, "archivd: config: environment: ARCHIVD_DATABSE_URL names no configuration key"},
		{"bad env value", "", []string{"ARCHIVD_VERIFY_WORKERS", "many"}, `archivd: config: environment: ARCHIVD_VERIFY_WORKERS (verify.workers): "many" is not an integer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := file(c.cfg)
			if c.env != nil {
				t.Setenv(c.env[0], c.env[1])
			}
			code, out, errs := runCLI("--config", p, "--database.url", url, "collection", "create", "x")
			want := strings.ReplaceAll(c.line, "FILE", p) + "\n"
			if code != exitUsage || errs != want || out != "" {
				t.Errorf("exit %d, stderr %q, want %q", code, errs, want)
			}
			code, _, errs = runCLI("config", "check", p)
			if code != exitUsage || errs != strings.Replace(want, "archivd: config:", "archivd: config check: config:", 1) {
				t.Errorf("config check: %d %q", code, errs)
			}
			if got := e.counts(t); !reflect.DeepEqual(got, before) {
				t.Errorf("catalog changed: %v", got)
			}
		})
	}
}

func TestConfigShowRedactsAndRoundTrips(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "hunter2\n")
	code, out, errs := runCLI("--database.url", "postgres://archivd:inline@127.0.0.1/x", "--database.password_file", pw, "config", "show")
	if code != 0 || strings.Contains(out, "inline") || strings.Contains(out, "hunter2") || !strings.Contains(out, "url: postgres://archivd:REDACTED@127.0.0.1/x") {
		t.Fatalf("config show: %d %s %s", code, out, errs)
	}
	p := filepath.Join(t.TempDir(), "shown.yaml")
	writeFile(t, p, out)
	if code, _, errs := runCLI("config", "check", p); code != 0 {
		t.Fatalf("shown config does not check: %s", errs)
	}
	code, out, _ = runCLI("config", "show", "--json", "--log-level", "debug")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["log"].(map[string]any)["level"] != "debug" {
		t.Fatalf("config show --json: %s", out)
	}
}

// With no database.url the CLI runs the embedded cluster under state_dir.
func TestEmbeddedDatabaseWhenURLEmpty(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	t.Parallel()
	state, err := os.MkdirTemp("", "archivd-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"--state-dir", state}
	if code, out, errs := runCLI(append(args, "migrate")...); code != 0 || !strings.Contains(out, fmt.Sprintf("migrated schema from version 0 to %d", migrations.Latest())) {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(append(args, "collection", "create", "e")...); code != 0 {
		t.Fatalf("create: %s", errs)
	}
	code, out, _ := runCLI(append(args, "collection", "list")...)
	if code != 0 || !strings.Contains(out, "\ne ") {
		t.Fatalf("list: %s", out)
	}
}

func TestUnreachableDatabaseIsFailure(t *testing.T) {
	t.Parallel()
	code, _, errs := runCLI("--database.url", "postgres://archivd@127.0.0.1:1/archivd?connect_timeout=5", "list")
	if code != exitFailure || !strings.HasPrefix(errs, "archivd: list: connect to 127.0.0.1: ") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestConfigFileFromEnvironment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "archivd.yaml")
	writeFile(t, p, "network:\n  listen_port: 7001\n")
	t.Setenv("ARCHIVD_CONFIG", p)
	code, out, errs := runCLI("config", "show", "--json")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["network"].(map[string]any)["listen_port"] != 7001.0 {
		t.Fatalf("config show with ARCHIVD_CONFIG: %d %s %s", code, out, errs)
	}
	t.Setenv("ARCHIVD_BOGUS", "1")
	if code, _, _ := runCLI("completion", "bash"); code != 0 {
		t.Fatalf("completion needs no valid configuration, got exit %d", code)
	}
}
