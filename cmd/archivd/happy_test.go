package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/torrentfile"
)

// makeTree writes a nested tree with a zero-length file and returns its path.
// addTree creates collection "c" and adds makeTree's tree to it (adopted
// in place, with pieces of pieceLength, "" for the default); it returns
// the tree's directory.
func (e *testEnv) addTree(t *testing.T, pieceLength string) string {
	t.Helper()
	e.createCollection(t, "c")
	dir := makeTree(t, e.root)
	mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "c", Sources: []string{dir}, PieceLength: pieceLength}))
	return dir
}

func makeTree(t *testing.T, root string) string {
	dir := filepath.Join(root, "src", "dataset")
	writeFile(t, filepath.Join(dir, "top.bin"), strings.Repeat("t", 40000))
	writeFile(t, filepath.Join(dir, "a", "b", "deep.txt"), strings.Repeat("d", 70000))
	writeFile(t, filepath.Join(dir, "a", "empty"), "")
	return dir
}

func listJSON(t *testing.T, e *testEnv, o listOptions) []map[string]any {
	t.Helper()
	e.stdout.Reset()
	o.JSON = true
	mustOK(t, runList(ctxT(t), e.a, o))
	var out []map[string]any
	if err := json.Unmarshal(e.stdout.Bytes(), &out); err != nil {
		t.Fatalf("list --json: %v: %s", err, e.stdout)
	}
	return out
}

func TestAddDirectoryListShowRmKeepsData(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	e.createCollection(t, "c")
	dir := makeTree(t, e.root)
	out := filepath.Join(e.root, "dataset.torrent")
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{dir}, Out: out, PieceLength: "16KiB", Trackers: []string{"http://127.0.0.1:6969/announce"}}))
	if !strings.Contains(e.stdout.String(), "added dataset (") || !strings.Contains(e.stdout.String(), "3 files") || !strings.Contains(e.stdout.String(), "(verified)") {
		t.Fatalf("add output: %s", e.stdout)
	}
	tor, err := torrentfile.Load(out)
	if err != nil {
		t.Fatalf("--out file: %v", err)
	}
	list := listJSON(t, e, listOptions{Collection: "c"})
	if len(list) != 1 || list[0]["name"] != "dataset" || list[0]["complete_pct"] != 100.0 ||
		list[0]["data_dir"] != dir || list[0]["infohash"] != strings.ToLower(hexOf(tor.InfoHash)) || list[0]["total_length"] != 110000.0 {
		t.Fatalf("list: %v", list)
	}
	e.stdout.Reset()
	mustOK(t, runShow(ctx, e.a, showOptions{Ref: "dataset", JSON: true}))
	var sv map[string]any
	if err := json.Unmarshal(e.stdout.Bytes(), &sv); err != nil {
		t.Fatal(err)
	}
	files := sv["files"].([]any)
	if len(files) != 3 || sv["open_findings"] != 0.0 || sv["pieces_complete"] != sv["piece_count"] {
		t.Fatalf("show: %v", sv)
	}
	paths := []string{}
	for _, f := range files {
		paths = append(paths, f.(map[string]any)["path"].(string))
	}
	if strings.Join(paths, ",") != "a/b/deep.txt,a/empty,top.bin" {
		t.Fatalf("files %v", paths)
	}
	e.stdout.Reset()
	mustOK(t, runShow(ctx, e.a, showOptions{Ref: hexOf(tor.InfoHash)[:10]}))
	if !strings.Contains(e.stdout.String(), "complete:      7 pieces (100.0%)") {
		t.Fatalf("show text: %s", e.stdout)
	}
	before := snapshot(t, dir)
	rows := e.counts(t)
	wantErr(t, runRm(ctx, e.a, rmOptions{Refs: []string{"dataset", "nope"}, DeleteData: true}), exitNotFound,
		`archivd: rm: torrent "nope": not found`)
	if got := e.counts(t); got["torrents"] != rows["torrents"] || !sameMap(snapshot(t, dir), before) {
		t.Fatal("rm with an unknown name changed something")
	}
	mustOK(t, runRm(ctx, e.a, rmOptions{Refs: []string{"dataset"}}))
	if got := snapshot(t, dir); !sameMap(got, before) {
		t.Fatal("rm without --delete-data changed the data")
	}
	if n := e.counts(t); n["torrents"] != 0 || n["torrent_files"] != 0 || n["piece_chunks"] != 0 {
		t.Fatalf("rm left rows: %v", n)
	}
	wantErr(t, runShow(ctx, e.a, showOptions{Ref: "dataset"}), exitNotFound, `archivd: show dataset: torrent "dataset": not found`)
}

func hexOf(h [20]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 40)
	for i, b := range h {
		out[2*i], out[2*i+1] = digits[b>>4], digits[b&15]
	}
	return string(out)
}

func TestRmDeleteDataDeletesExactlyTheTorrentsFiles(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	dir := e.addTree(t, "")
	// Added after the torrent: a stranger file, and a symlinked directory
	// replacing one of the torrent's directories, pointing at data that
	// must survive.
	writeFile(t, filepath.Join(dir, "a", "stranger.txt"), "not mine")
	outside := filepath.Join(e.root, "outside")
	writeFile(t, filepath.Join(outside, "deep.txt"), "precious")
	if err := os.RemoveAll(filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	// A single-file torrent next to the directory shares the parent.
	single := filepath.Join(e.root, "src", "single.bin")
	writeFile(t, single, strings.Repeat("s", 20000))
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{single}}))

	e.stdout.Reset()
	mustOK(t, runRm(ctx, e.a, rmOptions{Refs: []string{"dataset"}, DeleteData: true}))
	got := snapshot(t, e.root)
	for _, gone := range []string{"src/dataset/top.bin", "src/dataset/a/empty"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s not deleted", gone)
		}
	}
	for p, want := range map[string]string{
		"src/dataset/a/stranger.txt": "file:not mine", "outside/deep.txt": "file:precious",
		"src/dataset/a/b": "link:" + outside, "src/single.bin": "file:" + strings.Repeat("s", 20000),
	} {
		if got[p] != want {
			t.Errorf("%s = %q, want %q", p, got[p], want)
		}
	}
	if !strings.Contains(e.stdout.String(), "deleted 2 files and 0 empty directories") {
		t.Errorf("rm output: %s", e.stdout)
	}
	if !strings.Contains(e.stderr.String(), "not a directory (symlinks are not followed)") {
		t.Errorf("rm did not report the kept file: %q", e.stderr)
	}

	// Once nothing foreign is left, the torrent's directories go too;
	// the single-file torrent's parent directory is not its own.
	e.stdout.Reset()
	mustOK(t, runRm(ctx, e.a, rmOptions{Refs: []string{"single.bin"}, DeleteData: true}))
	got = snapshot(t, e.root)
	if _, ok := got["src/single.bin"]; ok {
		t.Error("single.bin not deleted")
	}
	if got["src"] != "dir" || got["src/dataset/a/stranger.txt"] == "" {
		t.Errorf("deleted too much: %v", keys(got))
	}
}

func TestRmDeleteDataRemovesEmptyDirs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	e.createCollection(t, "c")
	dir := makeTree(t, e.root)
	writeFile(t, filepath.Join(e.root, "src", "neighbour.txt"), "stay")
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{dir}}))
	mustOK(t, runRm(ctx, e.a, rmOptions{Refs: []string{"dataset"}, DeleteData: true}))
	got := snapshot(t, filepath.Join(e.root, "src"))
	if len(got) != 2 || got["neighbour.txt"] != "file:stay" {
		t.Fatalf("left %v", got)
	}
	if !strings.Contains(e.stdout.String(), "deleted 3 files and 3 empty directories") {
		t.Errorf("rm output: %s", e.stdout)
	}
}

func TestImportTorrentGoesToCollectionDirAndIsUnverified(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	e.createCollection(t, "c")
	p := e.writeTorrent(t, "set.torrent", multiInfo("set", tfile(100, "a.txt"), tfile(0, "z", "empty")))
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{p}, WebSeeds: []string{"http://127.0.0.1:8080/set/"}}))
	list := listJSON(t, e, listOptions{})
	want := filepath.Join(e.root, "data", "c", "set")
	if len(list) != 1 || list[0]["data_dir"] != want || list[0]["complete_pct"] != 0.0 || list[0]["pieces_known"] != 0.0 {
		t.Fatalf("list %v", list)
	}
	if ws := list[0]["web_seeds"].([]any); len(ws) != 1 {
		t.Fatalf("web seeds %v", ws)
	}
	if n := e.counts(t); n["piece_chunks"] != 0 || n["torrent_files"] != 2 {
		t.Fatalf("rows %v", n)
	}
	// A magnet gets its own directory named after dn.
	mag := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=mag"
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{mag}}))
	e.stdout.Reset()
	mustOK(t, runShow(ctx, e.a, showOptions{Ref: "0123456789abcdef"}))
	if !strings.Contains(e.stdout.String(), "metadata:      not fetched yet") || !strings.Contains(e.stdout.String(), filepath.Join(e.root, "data", "c", "mag")) {
		t.Fatalf("show magnet: %s", e.stdout)
	}
}

func TestAddSeveralSourcesEachItsOwnTransaction(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	e.createCollection(t, "c")
	good := e.writeTorrent(t, "good.torrent", multiInfo("good", tfile(10, "f")))
	bad := e.writeTorrent(t, "bad.torrent", multiInfo("bad", tfile(10, "..", "f")))
	err := runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{bad, good}})
	wantErr(t, err, exitUsage, "archivd: add: 1 of 2 sources failed and were not added (1 added)")
	if !strings.Contains(e.stderr.String(), `archivd: add `+bad+`: torrent file: file path "../f" leaves the torrent directory`) {
		t.Fatalf("stderr %q", e.stderr)
	}
	if n := e.counts(t); n["torrents"] != 1 {
		t.Fatalf("rows %v", n)
	}
}

func TestPauseResumeTorrentsAndCollections(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	e.createCollection(t, "c")
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{
		e.writeTorrent(t, "one.torrent", multiInfo("one", tfile(10, "f"))),
		e.writeTorrent(t, "two.torrent", multiInfo("two", tfile(10, "f")))}}))
	state := func() string {
		var s []string
		for _, v := range listJSON(t, e, listOptions{}) {
			s = append(s, v["name"].(string)+"="+v["effective_state"].(string))
		}
		return strings.Join(s, " ")
	}
	mustOK(t, runPause(ctx, e.a, pauseOptions{Refs: []string{"one"}, Action: "pause"}))
	if s := state(); s != "one=paused two=active" {
		t.Fatal(s)
	}
	mustOK(t, runCollectionState(ctx, e.a, collectionStateOptions{Name: "c", Action: "pause"}))
	if s := state(); s != "one=paused two=paused (collection)" {
		t.Fatal(s)
	}
	mustOK(t, runCollectionState(ctx, e.a, collectionStateOptions{Name: "c", Action: "resume"}))
	mustOK(t, runPause(ctx, e.a, pauseOptions{Collection: "c", Action: "resume"}))
	if s := state(); s != "one=active two=active" {
		t.Fatal(s)
	}
	wantErr(t, runPause(ctx, e.a, pauseOptions{Refs: []string{"one", "nope"}, Action: "pause"}), exitNotFound,
		`archivd: pause: torrent "nope": not found`)
	if s := state(); s != "one=active two=active" {
		t.Fatalf("a failed pause changed state: %s", s)
	}
	wantErr(t, runCollectionState(ctx, e.a, collectionStateOptions{Name: "nope", Action: "pause"}), exitNotFound,
		`archivd: collection pause nope: collection "nope": not found`)
}

func TestCollectionLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	mustOK(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: "c", Description: "test set",
		DataRoot: filepath.Join(e.root, "disk"), WebSeeds: []string{"https://127.0.0.1/ws/"}}))
	wantErr(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: "c"}), exitConflict,
		`archivd: collection create c: create collection "c": already exists`)
	wantErr(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: ".."}), exitUsage,
		`archivd: collection create: collection name "..": use letters, digits, '.', '_', '-' (starting with a letter or digit, at most 128)`)
	wantErr(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: "d", WebSeeds: []string{"ftp://x/"}}), exitUsage,
		`archivd: collection create: --web-seed "ftp://x/" is not an http(s) URL`)
	state := e.a.cfg.StateDir
	wantErr(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: "d", DataRoot: "/"}), exitUsage,
		`archivd: collection create: --data-root "/" is the filesystem root: give the data its own directory`)
	wantErr(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: "d", DataRoot: filepath.Join(state, "postgres")}), exitUsage,
		`archivd: collection create: --data-root "`+state+`/postgres" is inside the state directory `+state+
			` (where the embedded database lives): choose a directory outside it, or below `+state+`/data`)
	wantErr(t, runCollectionCreate(ctx, e.a, collectionCreateOptions{Name: "d", DataRoot: e.root}), exitUsage,
		`archivd: collection create: --data-root "`+e.root+`" holds the state directory `+state+`: give the data its own directory`)
	e.stdout.Reset()
	mustOK(t, runCollectionList(ctx, e.a, collectionListOptions{JSON: true}))
	var cs []map[string]any
	if err := json.Unmarshal(e.stdout.Bytes(), &cs); err != nil || len(cs) != 1 || cs[0]["description"] != "test set" {
		t.Fatalf("collection list: %v %s", err, e.stdout)
	}
	mustOK(t, runAdd(ctx, e.a, addOptions{Collection: "c", Sources: []string{e.writeTorrent(t, "one.torrent", multiInfo("one", tfile(10, "f")))}}))
	e.stdout.Reset()
	mustOK(t, runCollectionShow(ctx, e.a, collectionShowOptions{Name: "c"}))
	if !strings.Contains(e.stdout.String(), "torrents:    1") || !strings.Contains(e.stdout.String(), filepath.Join(e.root, "disk")) {
		t.Fatalf("collection show: %s", e.stdout)
	}
	wantErr(t, runCollectionRm(ctx, e.a, collectionRmOptions{Name: "c"}), exitConflict,
		`archivd: collection rm c: remove collection "c": collection still has torrents (1): remove them first, or use --force (their data stays on disk)`)
	mustOK(t, runCollectionRm(ctx, e.a, collectionRmOptions{Name: "c", Force: true}))
	if n := e.counts(t); n["collections"] != 0 || n["torrents"] != 0 {
		t.Fatalf("rows %v", n)
	}
	wantErr(t, runCollectionRm(ctx, e.a, collectionRmOptions{Name: "c"}), exitNotFound, `archivd: collection rm c: collection "c": not found`)
}

func TestMigrateIsIdempotentAndReportsVersions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	mustOK(t, runMigrate(ctx, e.a, migrateOptions{}))
	if !strings.Contains(e.stdout.String(), ": up to date, nothing to do") {
		t.Fatalf("migrate: %s", e.stdout)
	}
	e.stdout.Reset()
	mustOK(t, runMigrate(ctx, e.a, migrateOptions{Status: true, JSON: true}))
	var r migrateResult
	if err := json.Unmarshal(e.stdout.Bytes(), &r); err != nil || !r.UpToDate || r.To != r.Latest || r.From != r.To {
		t.Fatalf("status %s %v", e.stdout, err)
	}
}
