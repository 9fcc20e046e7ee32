package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/pgtest/rawsql"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testEnv is an app on a fresh migrated database with its own data dir.
type testEnv struct {
	a              *app
	url            string
	root           string // temp dir for data and sources
	stdout, stderr *bytes.Buffer
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	url := pgtest.URL(t)
	root := t.TempDir()
	cfg := config.Default()
	cfg.Database.URL = url
	cfg.StateDir = filepath.Join(root, "state")
	cfg.DataDir = filepath.Join(root, "data")
	e := &testEnv{url: url, root: root, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	e.a = &app{stdout: e.stdout, stderr: e.stderr, cfg: &cfg}
	return e
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// counts returns the row counts of the catalog tables the CLI writes.
func (e *testEnv) counts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"collections", "torrents", "torrent_files", "piece_chunks"} {
		out[tbl] = int(rawsql.Int(t, e.url, "SELECT count(*) FROM "+tbl))
	}
	return out
}

// snapshot lists everything under dir: path -> kind and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case fi.IsDir():
			out[rel] = "dir"
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				out[rel] = "unreadable"
			} else {
				out[rel] = "file:" + string(b)
			}
		default:
			out[rel] = "other:" + fi.Mode().Type().String()
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// wantErr checks the one stderr line and exit code run would produce.
func wantErr(t *testing.T, err error, code int, line string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", line)
	}
	got := errorLine(err)
	if got != line {
		t.Errorf("error line\n got: %s\nwant: %s", got, line)
	}
	if strings.Contains(got, "\n") {
		t.Errorf("error is not one line: %q", got)
	}
	if c := exitCode(err); c != code {
		t.Errorf("exit code %d, want %d (%s)", c, code, got)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %s", errorLine(err))
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

type dict = map[string]any

// torrentBytes bencodes a torrent with the given info dict.
func torrentBytes(t *testing.T, info dict) []byte {
	t.Helper()
	raw, err := bencode.Marshal(dict{"announce": "http://127.0.0.1:1/announce", "info": info})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// multiInfo is a multi-file info dict (piece length 16KiB, fake hashes).
func multiInfo(name string, files ...dict) dict {
	var total int64
	list := make([]any, len(files))
	for i, f := range files {
		total += int64(f["length"].(int))
		list[i] = f
	}
	n := int((total + 16383) / 16384)
	return dict{"name": name, "piece length": 16384, "pieces": strings.Repeat(strings.Repeat("x", 20), n), "files": list}
}

func tfile(length int, path ...string) dict {
	p := make([]any, len(path))
	for i, c := range path {
		p[i] = c
	}
	return dict{"length": length, "path": p}
}

// writeTorrent writes a crafted .torrent and returns its path.
func (e *testEnv) writeTorrent(t *testing.T, name string, info dict) string {
	t.Helper()
	p := filepath.Join(e.root, "src", name)
	writeFile(t, p, string(torrentBytes(t, info)))
	return p
}

func (e *testEnv) createCollection(t *testing.T, name string) {
	t.Helper()
	mustOK(t, runCollectionCreate(ctxT(t), e.a, collectionCreateOptions{Name: name}))
}
