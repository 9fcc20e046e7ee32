package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
)

// TestLifecycleInvariantsUnderRandomFaults is issue 10's lifecycle test:
// a seeded random sequence of faults and operator actions played against
// two real archivd serve processes on loopback, a seeding node ("src",
// 127.0.0.2, embedded PostgreSQL) and a repairing node ("rep", 127.0.0.3,
// its catalog on a PostgreSQL cluster the test stops and starts, its data
// on a small tmpfs the test fills). No tracker: rep knows src's address
// from its catalog's peers table, so neither node ever dials itself.
// After every step the invariants of lifeWorld.check hold; a settle step
// (randomly, and at the end) waits, bounded, for everything to come right
// again. LIFECYCLE_SEED replays a sequence (the seed is printed
// when it fails), LIFECYCLE_STEPS sets its length (default 200;
// the soak in docs/BENCHMARKS.md runs 5000). Not ARCHIVD_*: those are
// archivd's configuration, and the nodes inherit the environment.
func TestLifecycleInvariantsUnderRandomFaults(t *testing.T) {
	t.Parallel()
	seed := envUint(t, "LIFECYCLE_SEED", uint64(time.Now().UnixNano()))
	steps := int(envUint(t, "LIFECYCLE_STEPS", 200))
	began := time.Now()
	w := newLifeWorld(t, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lifecycle: seed %d; replay with LIFECYCLE_SEED=%d LIFECYCLE_STEPS=%d\nsteps:\n%s",
				seed, seed, steps, strings.Join(w.history, "\n"))
		}
	})
	t.Logf("lifecycle: seed %d, %d steps (set up in %v)", seed, steps, time.Since(began).Round(time.Millisecond))
	for i := 1; i <= steps; i++ {
		w.step(i)
	}
	w.settle("final")
	t.Logf("lifecycle: %d steps in %v: %v", steps, time.Since(began).Round(time.Second), w.counts)
}

func envUint(t *testing.T, name string, def uint64) uint64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: not a non-negative integer", name, v)
	}
	return n
}

// lifeWorld is the two nodes and what the test knows of them.
type lifeWorld struct {
	t        *testing.T
	rng      *rand.Rand
	src, rep *instance
	l        layout
	ref      string // src's data: the reference, never damaged
	root     string // rep's data root: a tmpfs
	data     string // rep's copy of the torrent
	db       *catalog.DB
	dbURL    string
	pg       pgserver.Options
	id       int64 // the torrent's id in rep's catalog
	history  []string
	counts   map[string]int

	srcUp, paused, full bool
	// dirty: pieces the test damaged since rep last read them (a scrub):
	// rep cannot know of that damage yet.
	dirty map[int]bool
	// damaged: some step damaged data since the last scrub.
	damaged bool
	// lastBad: the pieces bad after the last scrub.
	lastBad map[int]bool
	// repairableSince: since when each open finding has had a live source.
	repairableSince map[int64]time.Time
	// intactSince: since when rep's copy has been intact and rep running it.
	intactSince time.Time
}

const (
	lifeName = "lc"
	// lifeBound bounds every automatic way out (re-check, repair, disk
	// fault retry) on a loaded machine.
	lifeBound = 5 * time.Minute
)

func newLifeWorld(t *testing.T, seed uint64) *lifeWorld {
	w := &lifeWorld{t: t, rng: rand.New(rand.NewPCG(seed, 10)), counts: map[string]int{},
		srcUp: true, dirty: map[int]bool{}, lastBad: map[int]bool{}, repairableSince: map[int64]time.Time{}}
	w.root = mountTmpfs(t, "4m")
	var dbURL string
	_, w.pg, dbURL = pgtest.Own(t)
	w.dbURL = dbURL
	w.src = newInstanceOpts(t, "src", instanceOpts{host: "127.0.0.2"})
	w.rep = newInstanceOpts(t, "rep", instanceOpts{host: "127.0.0.3", dbURL: dbURL,
		extra: "verify:\n  schedules: [\"@every 30s\"]\n  max_run: 0s\n  interval: 1s\n  range_bytes: 1MiB\n"})
	w.ref = filepath.Join(w.src.dir, lifeName)
	writeLifecycleTree(t, w.ref, w.rng)
	tfile := filepath.Join(w.src.dir, lifeName+".torrent")
	w.src.adopt("science", w.ref, "16KiB", tfile)
	w.l = readLayout(t, tfile)
	w.rep.importTorrent("science", w.root, tfile)
	w.data = filepath.Join(w.root, lifeName)
	w.db = pgtest.Open(t, dbURL).ForNode("rep")
	ctx := context.Background()
	tor, err := w.db.TorrentByRef(ctx, lifeName)
	if err != nil {
		t.Fatal(err)
	}
	w.id = tor.ID
	if err := w.db.SavePeers(ctx, []catalog.Peer{{TorrentID: w.id, Addr: fmt.Sprintf("127.0.0.2:%d", w.src.port), Source: "lifecycle test"}}); err != nil {
		t.Fatal(err)
	}
	w.src.start()
	w.rep.start()
	testutil.Eventually(t, lifeBound, "rep downloaded the torrent from src", func() bool {
		ps := w.pieces()
		return ps.Complete.Count(w.l.pieces()) == w.l.pieces()
	})
	w.check()
	return w
}

// lifeEvent is one kind of step: ok says whether it applies now, do plays
// it and describes what it did.
type lifeEvent struct {
	name   string
	weight int
	ok     func(w *lifeWorld) bool
	do     func(w *lifeWorld) string
}

func always(*lifeWorld) bool { return true }

var lifeEvents = []lifeEvent{
	{"flip", 10, always, (*lifeWorld).flipBytes},
	{"truncate", 4, always, (*lifeWorld).truncate},
	{"delete-file", 4, always, (*lifeWorld).deleteFile},
	{"recreate-dir", 2, always, (*lifeWorld).recreateDir},
	{"move-away-and-back", 2, always, (*lifeWorld).moveAwayAndBack},
	{"fix-by-hand", 5, always, (*lifeWorld).fixByHand},
	{"fill-disk", 2, func(w *lifeWorld) bool { return !w.full }, (*lifeWorld).fillDisk},
	{"free-disk", 3, func(w *lifeWorld) bool { return w.full }, (*lifeWorld).freeDisk},
	{"kill-rep", 4, always, (*lifeWorld).killRep},
	{"kill-src", 1, func(w *lifeWorld) bool { return w.srcUp }, (*lifeWorld).killSrc},
	{"start-src", 3, func(w *lifeWorld) bool { return !w.srcUp }, (*lifeWorld).startSrc},
	{"postgres-restart", 3, always, (*lifeWorld).restartPostgres},
	{"pause", 2, func(w *lifeWorld) bool { return !w.paused }, (*lifeWorld).pause},
	{"resume", 3, func(w *lifeWorld) bool { return w.paused }, (*lifeWorld).resume},
	{"scrub", 8, always, func(w *lifeWorld) string { return w.scrub() }},
	{"settle", 2, always, func(w *lifeWorld) string { w.settle("step"); return "settled" }},
}

func (w *lifeWorld) step(i int) {
	w.t.Helper()
	total := 0
	for _, e := range lifeEvents {
		if e.ok(w) {
			total += e.weight
		}
	}
	pick := w.rng.IntN(total)
	for _, e := range lifeEvents {
		if !e.ok(w) {
			continue
		}
		if pick -= e.weight; pick >= 0 {
			continue
		}
		began := time.Now()
		w.history = append(w.history, fmt.Sprintf("%4d %s: ...", i, e.name))
		what := e.do(w)
		w.history[len(w.history)-1] = fmt.Sprintf("%4d %s: %s (%v)", i, e.name, what, time.Since(began).Round(time.Millisecond))
		w.counts[e.name]++
		w.check()
		return
	}
}

// note adds a line to the history (shown when the test fails).
func (w *lifeWorld) note(format string, args ...any) {
	w.history = append(w.history, "     "+fmt.Sprintf(format, args...))
}

// existing returns the torrent's files now on rep's disk with data, with
// their current size, in random order.
func (w *lifeWorld) existing() ([]span, []int64) {
	var fs []span
	var sizes []int64
	for _, i := range w.rng.Perm(len(w.l.files)) {
		f := w.l.files[i]
		if fi, err := os.Stat(filepath.Join(w.data, f.path)); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			fs, sizes = append(fs, f), append(sizes, fi.Size())
		}
	}
	return fs, sizes
}

func (w *lifeWorld) markDirty(off, n int64) {
	for _, p := range w.l.piecesOf(off, n) {
		w.dirty[p] = true
	}
	w.damaged = true
}

func (w *lifeWorld) flipBytes() string {
	fs, sizes := w.existing()
	if len(fs) == 0 {
		return "no file to flip"
	}
	n := 1 + w.rng.IntN(3)
	var at []string
	for range n {
		i := w.rng.IntN(len(fs))
		off := w.rng.Int64N(sizes[i])
		flip(w.t, filepath.Join(w.data, fs[i].path), off)
		w.markDirty(fs[i].off+off, 1)
		at = append(at, fmt.Sprintf("%s@%d", fs[i].path, off))
	}
	return strings.Join(at, " ")
}

func (w *lifeWorld) truncate() string {
	fs, sizes := w.existing()
	if len(fs) == 0 {
		return "no file to truncate"
	}
	size := w.rng.Int64N(sizes[0])
	if err := os.Truncate(filepath.Join(w.data, fs[0].path), size); err != nil {
		w.t.Fatal(err)
	}
	w.markDirty(fs[0].off+size, sizes[0]-size)
	return fmt.Sprintf("%s to %d of %d bytes", fs[0].path, size, sizes[0])
}

func (w *lifeWorld) deleteFile() string {
	fs, sizes := w.existing()
	if len(fs) == 0 {
		return "no file to delete"
	}
	if err := os.Remove(filepath.Join(w.data, fs[0].path)); err != nil {
		w.t.Fatal(err)
	}
	w.markDirty(fs[0].off, fs[0].size)
	return fmt.Sprintf("%s (%d bytes)", fs[0].path, sizes[0])
}

func (w *lifeWorld) recreateDir() string {
	d := lifecycleDirs[w.rng.IntN(len(lifecycleDirs))]
	path := filepath.Join(w.data, d)
	if err := os.RemoveAll(path); err != nil {
		w.t.Fatal(err)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		w.t.Fatal(err)
	}
	for _, f := range w.l.files {
		if strings.HasPrefix(f.path, d+"/") {
			w.markDirty(f.off, f.size)
		}
	}
	return d
}

// moveAwayAndBack moves rep's data directory away, scrubs (exit 6, the
// torrent unavailable: data_missing) and moves it back. The daemon's
// re-check is to bring it back by itself (checked by the deadlines).
func (w *lifeWorld) moveAwayAndBack() string {
	away := w.data + ".away"
	if err := os.Rename(w.data, away); err != nil {
		w.t.Fatal(err)
	}
	code, out := w.verify()
	if code != 6 {
		w.t.Fatalf("verify with the data directory moved away: exit %d, want 6\n%s", code, out)
	}
	tor := w.torrent()
	what := fmt.Sprintf("verify exit 6, %s/%s", tor.Availability, tor.AvailabilityCause)
	if tor.Availability != catalog.AvailabilityUnavailable {
		w.t.Fatalf("after a scrub of the moved-away data: availability %s (%s), want unavailable", tor.Availability, tor.AvailabilityReason)
	}
	if err := os.Rename(away, w.data); err != nil {
		w.t.Fatalf("move the data directory back: %v (did archivd create %s while it was away?)", err, w.data)
	}
	w.damaged = true
	clear(w.dirty) // the scrub read every piece: all are in held findings
	return what
}

// fixByHand writes the right bytes over a damaged piece whose files are
// all there, as an operator restoring it from a backup would.
func (w *lifeWorld) fixByHand() string {
	bad := sortedKeys(w.l.bad(w.t, w.data))
	for _, i := range w.rng.Perm(len(bad)) {
		if w.l.restorePiece(w.t, w.ref, w.data, bad[i]) {
			delete(w.dirty, bad[i])
			return fmt.Sprintf("piece %d", bad[i])
		}
	}
	return "no damaged piece with all its files there"
}

// fillDisk fills rep's data file system up with a file of its own.
func (w *lifeWorld) fillDisk() string {
	f, err := os.Create(filepath.Join(w.root, "filler"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := int64(0)
	for {
		m, err := f.Write(buf)
		n += int64(m)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			w.t.Fatal(err)
		}
	}
	w.full = true
	return fmt.Sprintf("%d bytes", n)
}

func (w *lifeWorld) freeDisk() string {
	if err := os.Remove(filepath.Join(w.root, "filler")); err != nil {
		w.t.Fatal(err)
	}
	w.full = false
	return "filler removed"
}

func (w *lifeWorld) killRep() string {
	w.rep.kill()
	w.rep.start()
	return "SIGKILL, started again"
}

func (w *lifeWorld) killSrc() string {
	w.src.kill()
	w.srcUp = false
	return "SIGKILL: no live source"
}

func (w *lifeWorld) startSrc() string {
	w.src.start()
	w.srcUp = true
	return "serving"
}

// restartPostgres stops rep's catalog for a few seconds (sometimes
// damaging data meanwhile) and starts it again.
func (w *lifeWorld) restartPostgres() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := pgserver.Start(ctx, w.pg)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := srv.Stop(ctx); err != nil {
		w.t.Fatal(err)
	}
	outage := time.Duration(500+w.rng.IntN(5000)) * time.Millisecond
	what := fmt.Sprintf("down %v", outage)
	if w.rng.IntN(2) == 0 {
		what += ", meanwhile flip " + w.flipBytes()
	}
	time.Sleep(outage) // the outage's length, not a wait for anything
	if _, err := pgserver.Start(ctx, w.pg); err != nil {
		w.t.Fatal(err)
	}
	// The test's own pool holds connections the stop broke: a new one.
	w.db.Close()
	w.db = pgtest.Open(w.t, w.dbURL).ForNode("rep")
	return what
}

func (w *lifeWorld) pause() string {
	w.rep.cli(0, "pause", lifeName)
	w.paused = true
	return "paused"
}

func (w *lifeWorld) resume() string {
	out, errs, code := w.rep.run("resume", lifeName)
	if code != 0 && code != 6 {
		w.t.Fatalf("resume: exit %d\n%s%s", code, out, errs)
	}
	w.paused = false
	return fmt.Sprintf("exit %d: %s", code, strings.TrimSpace(out))
}

// verify runs `archivd verify --wait` on rep and returns its exit code
// and output.
func (w *lifeWorld) verify() (int, string) {
	// No retry on "no archivd serve is running": rep runs, and its
	// heartbeat retries a failed beat within seconds (internal/daemon
	// heartbeat.go), so its node row is fresh after a SIGKILL or a
	// PostgreSQL restart.
	out, errs, code := w.rep.run("verify", lifeName, "--wait", "--timeout", "5m")
	if code != 0 && code != 6 {
		w.t.Fatalf("verify --wait: exit %d\n%s%s", code, out, tail(errs, 10))
	}
	return code, out
}
