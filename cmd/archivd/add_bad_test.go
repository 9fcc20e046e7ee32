package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// Each bad source must fail with one exact line and exit code, and leave
// the catalog rows and every file under the test root exactly as they were.
func TestAddBadInputChangesNothing(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T, e *testEnv) addOptions // returns what to run
		code  int
		line  string // ROOT is replaced by the test root
	}
	valid := multiInfo("set", tfile(100, "a.txt"), tfile(5, "sub", "b.txt"))
	cases := []tc{
		{"malformed torrent", func(t *testing.T, e *testEnv) addOptions {
			p := filepath.Join(e.root, "src", "bad.torrent")
			writeFile(t, p, "this is not bencode")
			return addOptions{Collection: "c", Sources: []string{p}}
		}, exitUsage, "archivd: add ROOT/src/bad.torrent: torrent file: malformed bencode: bencode: syntax error (offset: 0): unknown value type 't'"},
		{"truncated torrent", func(t *testing.T, e *testEnv) addOptions {
			raw := torrentBytes(t, valid)
			p := filepath.Join(e.root, "src", "cut.torrent")
			writeFile(t, p, string(raw[:len(raw)/2]))
			return addOptions{Collection: "c", Sources: []string{p}}
		}, exitUsage, "archivd: add ROOT/src/cut.torrent: torrent file: malformed bencode: bencode: syntax error (offset: 93): unexpected EOF"},
		{"path traversal", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "trav.torrent", multiInfo("set", tfile(10, "..", "..", "etc", "x")))}}
		}, exitUsage, `archivd: add ROOT/src/trav.torrent: torrent file: file path "../../etc/x" leaves the torrent directory`},
		{"absolute path", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "abs.torrent", multiInfo("set", tfile(10, "/etc", "passwd")))}}
		}, exitUsage, `archivd: add ROOT/src/abs.torrent: torrent file: file path "/etc/passwd" is absolute`},
		{"absolute name", func(t *testing.T, e *testEnv) addOptions {
			info := dict{"name": "/etc/x", "piece length": 16384, "pieces": string(make([]byte, 20)), "length": 10}
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "absname.torrent", info)}}
		}, exitUsage, `archivd: add ROOT/src/absname.torrent: torrent file: name "/etc/x" is absolute`},
		{"aliasing paths", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "alias.torrent", multiInfo("set", tfile(10, "a"), tfile(10, "a", "b")))}}
		}, exitUsage, `archivd: add ROOT/src/alias.torrent: torrent file: file path "a" is also the directory of file "a/b"`},
		{"colliding files", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "twice.torrent", multiInfo("set", tfile(10, "a"), tfile(10, "a")))}}
		}, exitUsage, `archivd: add ROOT/src/twice.torrent: torrent file: file path "a" appears twice`},
		{"duplicate infohash", func(t *testing.T, e *testEnv) addOptions {
			p := e.writeTorrent(t, "dup.torrent", valid)
			mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "c", Sources: []string{p}}))
			e.createCollection(t, "other")
			return addOptions{Collection: "other", Sources: []string{p}}
		}, exitConflict, `archivd: add ROOT/src/dup.torrent: infohash accd5fdd9dee9001c734eb71c16a7c82c6c42ca8 is already in the catalog as "set" in collection c: already exists`},
		{"unknown collection", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "nope", Sources: []string{e.writeTorrent(t, "ok.torrent", valid)}}
		}, exitNotFound, `archivd: add: collection "nope": not found`},
		{"missing source", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "c", Sources: []string{filepath.Join(e.root, "src", "gone")}}
		}, exitNotFound, "archivd: add ROOT/src/gone: no such file or directory"},
		{"symlink inside imported directory", func(t *testing.T, e *testEnv) addOptions {
			dir := filepath.Join(e.root, "src", "tree")
			writeFile(t, filepath.Join(dir, "real.txt"), "data")
			if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			return addOptions{Collection: "c", Sources: []string{dir}}
		}, exitUsage, "archivd: add ROOT/src/tree: create torrent: ROOT/src/tree/link is a symlink (refused: its length and content could disagree)"},
		{"fifo inside imported directory", func(t *testing.T, e *testEnv) addOptions {
			dir := filepath.Join(e.root, "src", "tree")
			writeFile(t, filepath.Join(dir, "real.txt"), "data")
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
			return addOptions{Collection: "c", Sources: []string{dir}}
		}, exitUsage, "archivd: add ROOT/src/tree: create torrent: ROOT/src/tree/pipe is not a regular file (p---------)"},
		{"unreadable torrent file", func(t *testing.T, e *testEnv) addOptions {
			p := filepath.Join(e.root, "src", "locked.torrent")
			if os.Geteuid() == 0 {
				// Root reads mode-000 files; reading /proc/self/mem at
				// offset 0 fails with EIO, a real unreadable file.
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("/proc/self/mem", p); err != nil {
					t.Fatal(err)
				}
			} else {
				writeFile(t, p, string(torrentBytes(t, valid)))
				if err := os.Chmod(p, 0); err != nil {
					t.Fatal(err)
				}
			}
			return addOptions{Collection: "c", Sources: []string{p}}
		}, exitFailure, "archivd: add ROOT/src/locked.torrent: read: UNREADABLE"},
		{"v2-only torrent", func(t *testing.T, e *testEnv) addOptions {
			tree := dict{"a.txt": dict{"": dict{"length": 10, "pieces root": strings.Repeat("r", 32)}}}
			info := dict{"name": "v2", "piece length": 16384, "meta version": 2, "file tree": tree}
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "v2.torrent", info)}}
		}, exitUsage, "archivd: add ROOT/src/v2.torrent: torrent v2 is v2-only (BEP 52, no v1 piece hashes): not supported: the torrent engine (anacrolix/torrent v1.61.0) crashes on such torrents; add a v1 or hybrid torrent of the same data"},
		{"bad magnet", func(t *testing.T, e *testEnv) addOptions {
			return addOptions{Collection: "c", Sources: []string{"magnet:?xt=urn:btih:zzzz"}}
		}, exitUsage, `archivd: add magnet:?xt=urn:btih:zzzz: magnet: infohash "zzzz" has 4 characters, want 40 hex or 32 base32`},
		{"bad piece length", func(t *testing.T, e *testEnv) addOptions {
			writeFile(t, filepath.Join(e.root, "src", "d", "f"), "data")
			return addOptions{Collection: "c", Sources: []string{filepath.Join(e.root, "src", "d")}, PieceLength: "1000"}
		}, exitUsage, "archivd: add ROOT/src/d: create torrent: piece length 1000 is not a power of two between 16 KiB and 512 MiB"},
		{"overlaps another torrent's directory", func(t *testing.T, e *testEnv) addOptions {
			dir := filepath.Join(e.root, "src", "big")
			writeFile(t, filepath.Join(dir, "sub", "f"), "data")
			writeFile(t, filepath.Join(dir, "g"), "more")
			mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "c", Sources: []string{dir}}))
			return addOptions{Collection: "c", Sources: []string{filepath.Join(dir, "sub")}}
		}, exitConflict, `archivd: add ROOT/src/big/sub: data directory ROOT/src/big/sub would overlap the data directory ROOT/src/big of torrent "big" (collection c)`},
		{"same data through a symlinked data root", func(t *testing.T, e *testEnv) addOptions {
			real := filepath.Join(e.root, "disk")
			if err := os.MkdirAll(real, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, filepath.Join(e.root, "alias")); err != nil {
				t.Fatal(err)
			}
			mustOK(t, runCollectionCreate(ctxT(t), e.a, collectionCreateOptions{Name: "x", DataRoot: real}))
			mustOK(t, runCollectionCreate(ctxT(t), e.a, collectionCreateOptions{Name: "y", DataRoot: filepath.Join(e.root, "alias")}))
			mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "x", Sources: []string{e.writeTorrent(t, "one.torrent", valid)}}))
			other := multiInfo("set", tfile(100, "a.txt"), tfile(6, "sub", "b.txt"))
			return addOptions{Collection: "y", Sources: []string{e.writeTorrent(t, "two.torrent", other)}}
		}, exitConflict, `archivd: add ROOT/src/two.torrent: data directory ROOT/alias/set would overlap the data directory ROOT/disk/set of torrent "set" (collection x)`},
		{"same file as another single-file torrent", func(t *testing.T, e *testEnv) addOptions {
			one := dict{"name": "same.bin", "piece length": 16384, "pieces": strings.Repeat("x", 20), "length": 10}
			mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "one.torrent", one)}}))
			two := dict{"name": "same.bin", "piece length": 16384, "pieces": strings.Repeat("y", 20), "length": 11}
			return addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "two.torrent", two)}}
		}, exitConflict, `archivd: add ROOT/src/two.torrent: file ROOT/data/c/same.bin would overlap a file of torrent "same.bin" (collection c)`},
		{"out already exists", func(t *testing.T, e *testEnv) addOptions {
			writeFile(t, filepath.Join(e.root, "src", "d", "f"), "data")
			writeFile(t, filepath.Join(e.root, "src", "d.torrent"), "keep me")
			return addOptions{Collection: "c", Sources: []string{filepath.Join(e.root, "src", "d")}, Out: filepath.Join(e.root, "src", "d.torrent")}
		}, exitConflict, "archivd: add ROOT/src/d: --out ROOT/src/d.torrent already exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.createCollection(t, "c")
			o := c.setup(t, e)
			rows, files := e.counts(t), snapshot(t, e.root)
			err := runAdd(ctxT(t), e.a, o)
			want := replaceRoot(c.line, e.root)
			if os.Geteuid() == 0 {
				want = replaceAll(want, "UNREADABLE", "input/output error")
			} else {
				want = replaceAll(want, "UNREADABLE", "permission denied")
			}
			wantErr(t, err, c.code, want)
			if got := e.counts(t); !reflect.DeepEqual(got, rows) {
				t.Errorf("catalog changed: %v -> %v", rows, got)
			}
			if got := snapshot(t, e.root); !sameMap(got, files) {
				t.Errorf("files changed: %v -> %v", keys(files), keys(got))
			}
		})
	}
}

func replaceRoot(s, root string) string { return strings.ReplaceAll(s, "ROOT", root) }

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
