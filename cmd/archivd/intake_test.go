package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/pgtest/rawsql"
	"github.com/archivd/archivd/internal/testutil"
)

func countLines(p *serveProc, msg string) int {
	n := 0
	for _, l := range p.lines() {
		if l["message"] == msg {
			n++
		}
	}
	return n
}

// A real archivd serve imports a .torrent dropped into a torrent_dir
// within seconds: one written slowly in two halves is imported once and
// never reported malformed half-way; one renamed in is imported too; a
// malformed one is reported once (log line and event) until it changes.
func TestTorrentDirIsWatched(t *testing.T) {
	t.Parallel()
	bin := archivdBinary(t)
	url := pgtest.URL(t)
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "archivd.yaml")
	writeFile(t, cfgPath, reloadConfig(url, filepath.Join(dir, "state"), "info", "")+
		fmt.Sprintf("collections:\n  - name: inbox\n    torrent_dir: %s\n", inbox))
	p := startServe(t, bin, cfgPath)
	p.waitLine(t, "intake: watching torrent_dir", nil)

	// Written in two halves with a pause longer than the settle time.
	raw := torrentBytes(t, multiInfo("slow", tfile(20000, "a.bin")))
	f, err := os.Create(filepath.Join(inbox, "slow.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := f.Write(raw[:len(raw)/2]); err != nil {
		t.Fatal(err)
	}
	// Not a wait: the pause of a slow writer, longer than the settle time,
	// is what is under test (the watcher must not act on the half file).
	time.Sleep(700 * time.Millisecond)
	if _, err := f.Write(raw[len(raw)/2:]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "intake: torrent imported", func(l map[string]any) bool { return l["name"] == "slow" })
	t.Logf("written, closed and imported in %s", time.Since(start))

	// Renamed in from a temporary name the importer ignores.
	tmp := filepath.Join(inbox, ".moved.part")
	writeFile(t, tmp, string(torrentBytes(t, multiInfo("moved", tfile(30000, "b.bin")))))
	if err := os.Rename(tmp, filepath.Join(inbox, "moved.torrent")); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "intake: torrent imported", func(l map[string]any) bool { return l["name"] == "moved" })

	// Malformed: reported once, again only when it changes.
	bad := filepath.Join(inbox, "bad.torrent")
	const refused = "intake: torrent not imported; left alone until the file changes"
	writeFile(t, bad, "not bencode")
	p.waitLine(t, refused, nil)
	writeFile(t, filepath.Join(inbox, "other.torrent"), string(torrentBytes(t, multiInfo("other", tfile(40000, "c.bin")))))
	p.waitLine(t, "intake: torrent imported", func(l map[string]any) bool { return l["name"] == "other" })
	if n := countLines(p, refused); n != 1 {
		t.Fatalf("malformed file reported %d times before it changed", n)
	}
	writeFile(t, bad, "still not bencode, longer")
	testutil.Eventually(t, 30*time.Second, "the changed malformed file reported", func() bool { return countLines(p, refused) >= 2 })
	if n := countLines(p, refused); n != 2 {
		t.Fatalf("changed malformed file: reported %d times in all, want 2", n)
	}
	if n := countLines(p, "intake: torrent imported"); n != 3 {
		t.Errorf("%d imports, want 3 (each file once)", n)
	}
	p.stop(t)

	events := rawsql.Int(t, url, `SELECT count(*) FROM events WHERE kind = 'torrent_dir_file_refused' AND data->>'file' = $1`, bad)
	names := rawsql.String(t, url, `SELECT string_agg(name, ',' ORDER BY name) FROM torrents`)
	if events != 2 || names != "moved,other,slow" {
		t.Errorf("events %d, torrents %q", events, names)
	}
	for _, l := range p.lines() {
		if l["level"] == "error" && l["message"] != refused {
			t.Errorf("unexpected error line: %v", l)
		}
	}
}
