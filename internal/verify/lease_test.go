package verify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

func TestJobLeaseIsTakenOverOnlyAfterItExpires(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	fx := addTorrent(t, db, t.TempDir(), "leased", 16<<10, 40_000)
	if err := db.EnsureVerifyRanges(ctx, fx.T.ID, fx.T.PieceCount, 100); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	runID, err := db.CreateVerifyRun(ctx, "manual", []byte(`{}`), "", now)
	if err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.PlanVerifyJobs(ctx, runID, []int64{fx.T.ID}, nil); err != nil || n != 1 {
		t.Fatalf("planned %d jobs: %v", n, err)
	}
	a, ok, err := db.ClaimVerifyJob(ctx, runID, "a", now, time.Minute)
	if err != nil || !ok {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	if _, ok, _ := db.ClaimVerifyJob(ctx, runID, "b", now.Add(59*time.Second), time.Minute); ok {
		t.Fatal("job claimed twice while leased")
	}
	if err := db.ExtendVerifyLease(ctx, a.ID, "a", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.ClaimVerifyJob(ctx, runID, "b", now.Add(90*time.Second), time.Minute); ok {
		t.Fatal("job claimed inside its extended lease")
	}
	b, ok, err := db.ClaimVerifyJob(ctx, runID, "b", now.Add(3*time.Minute), time.Minute)
	if err != nil || !ok || b.ID != a.ID || b.Attempts != 2 {
		t.Fatalf("takeover after expiry: %+v %v %v", b, ok, err)
	}
	_, err = db.CompleteVerifyJob(ctx, a, "a", catalog.VerifyJobResult{}, now.Add(4*time.Minute))
	if !errors.Is(err, catalog.ErrLeaseLost) {
		t.Fatalf("the old owner completed a job it lost: %v", err)
	}
	if _, err := db.CompleteVerifyJob(ctx, b, "b", catalog.VerifyJobResult{BytesHashed: 1}, now.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
}
