package verify

import (
	"context"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

func findingsOf(t *testing.T, db *catalog.DB, runID, torrentID int64) []catalog.VerifyFinding {
	t.Helper()
	fs, err := db.VerifyFindings(context.Background(), catalog.VerifyFindingFilter{RunID: runID, TorrentID: torrentID})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func piecesOfKind(fs []catalog.VerifyFinding, kind catalog.FindingKind) []int {
	var ps []int
	for _, f := range fs {
		if f.Kind == kind {
			ps = append(ps, f.Pieces()...)
		}
	}
	slices.Sort(ps)
	return ps
}

// piecesIn counts the pieces of findings' ranges.
func piecesIn(fs []catalog.VerifyFinding) int {
	n := 0
	for _, f := range fs {
		n += f.PieceCount
	}
	return n
}

func TestOfflineRunFindsExactlyTheDamagedPiecesOfEachKind(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	root := t.TempDir()
	const pl = 16 << 10
	flipped := addTorrent(t, db, root, "flipped", pl, 200_000, 90_000)
	damaged := addTorrent(t, db, root, "damaged", pl, 50_000, 50_000, 50_000, 50_000)
	clean := addTorrent(t, db, root, "clean", pl, 70_000)
	for _, off := range []int64{5, 70_000, 200_100, 289_999} {
		flipped.flip(t, off) // pieces 0, 4, 12, 17
	}
	if err := os.Truncate(damaged.path(0), 20_000); err != nil { // pieces 1..3 short (bytes 20000..49999)
		t.Fatal(err)
	}
	if err := os.Remove(damaged.path(1)); err != nil { // bytes 50000..99999: pieces 3..6
		t.Fatal(err)
	}
	if err := os.Remove(damaged.path(3)); err != nil { // bytes 150000..199999: pieces 9..12
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(damaged.path(3), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.RangeBytes = 64 << 10
	var last int64
	runID, err := RunOffline(ctx, db, cfg, Scope{}, func(done, total int64) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	if got := piecesOfKind(findingsOf(t, db, runID, flipped.T.ID), "hash_mismatch"); !slices.Equal(got, []int{0, 4, 12, 17}) {
		t.Fatalf("flipped: hash_mismatch pieces %v", got)
	}
	dfs := findingsOf(t, db, runID, damaged.T.ID)
	if got := piecesOfKind(dfs, "short_file"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("damaged: short_file pieces %v (%+v)", got, dfs)
	}
	if got := piecesOfKind(dfs, "missing_file"); !slices.Equal(got, []int{4, 5, 6}) {
		t.Fatalf("damaged: missing_file pieces %v", got)
	}
	if got := piecesOfKind(dfs, "io_error"); !slices.Equal(got, []int{9, 10, 11, 12}) {
		t.Fatalf("damaged: io_error pieces %v", got)
	}
	if piecesIn(dfs) != 10 || len(findingsOf(t, db, runID, clean.T.ID)) != 0 {
		t.Fatalf("unexpected findings: damaged %d, clean %d", piecesIn(dfs), len(findingsOf(t, db, runID, clean.T.ID)))
	}
	rep, err := LoadReport(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Run
	if r.ID != runID || r.State != "done" || r.PiecesFailed != 14 || r.PiecesChecked != int64(flipped.T.PieceCount+damaged.T.PieceCount+clean.T.PieceCount) {
		t.Fatalf("run %+v", r)
	}
	if r.BytesPlanned != flipped.T.TotalLength+damaged.T.TotalLength+clean.T.TotalLength || last != r.BytesHashed {
		t.Fatalf("planned %d, hashed %d, progress %d", r.BytesPlanned, r.BytesHashed, last)
	}
	if unverified := pgtest.Int(t, db, `SELECT count(*) FROM verify_ranges WHERE last_verified_at IS NULL OR last_run_id <> $1`, runID); unverified != 0 {
		t.Fatalf("%d ranges not recorded verified", unverified)
	}
	for _, f := range dfs {
		if f.Kind == "short_file" && f.Piece == 1 && (f.FileIndex != 0 || f.FileOffset != 20_000) {
			t.Fatalf("short_file location %+v", f)
		}
	}
}

// TestPiecesNotRecordedCompleteAreNoFindings: a torrent still downloading
// (nothing on disk, pieces recorded not complete or never) is not bitrot:
// no finding, no mass-failure hold, the torrent stays available.
func TestPiecesNotRecordedCompleteAreNoFindings(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	fx := addTorrent(t, db, t.TempDir(), "fresh", 16<<10, 100_000)
	// Half of it "downloaded so far": only pieces 0-2 recorded complete.
	var ups []catalog.PieceUpdate
	for p := 0; p < fx.T.PieceCount; p++ {
		ups = append(ups, catalog.PieceUpdate{Piece: p, Complete: p < 3})
	}
	if err := db.StorePieces(ctx, map[int64][]catalog.PieceUpdate{fx.T.ID: ups}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(fx.path(0), 3*16<<10); err != nil { // the rest not there yet
		t.Fatal(err)
	}
	runID, err := RunOffline(ctx, db, testConfig(t), Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fs := findingsOf(t, db, runID, fx.T.ID); len(fs) != 0 {
		t.Fatalf("findings for pieces not recorded complete: %+v", fs)
	}
	run, err := db.VerifyRunByID(ctx, runID)
	if err != nil || run.PiecesChecked != 3 {
		t.Fatalf("run checked %d pieces (%v), want the 3 recorded complete", run.PiecesChecked, err)
	}
	tor, _ := db.TorrentByID(ctx, fx.T.ID)
	if tor.Availability != "ok" {
		t.Fatalf("torrent marked %s: %s", tor.Availability, tor.AvailabilityReason)
	}
}
