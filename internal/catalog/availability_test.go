package catalog_test

import (
	"context"
	"sync"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestChangeAvailabilityReportsOneChange: of several writers of the same
// unavailable state at once (the daemon's re-check and `archivd resume`),
// exactly one sees a change (and records the event); a new reason is a
// change again. The e2e lifecycle test saw the same event recorded twice
// 23 ms apart before re-checks used it.
func TestChangeAvailabilityReportsOneChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.CreateCollection(ctx, catalog.Collection{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	tor, err := db.AddTorrent(ctx, newTorrent("c", 11, 10))
	if err != nil {
		t.Fatal(err)
	}
	a := catalog.AvailabilityOf{State: catalog.AvailabilityUnavailable, Cause: catalog.CauseMassFailure, Reason: "re-check: 9 of 10 bad"}
	var mu sync.Mutex
	changes := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			changed, err := db.ChangeAvailability(ctx, tor.ID, a)
			if err != nil {
				t.Error(err)
			}
			if changed {
				mu.Lock()
				changes++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if changes != 1 {
		t.Fatalf("%d writers saw a change, want 1", changes)
	}
	a.Reason = "re-check: 10 of 10 bad"
	if changed, err := db.ChangeAvailability(ctx, tor.ID, a); err != nil || !changed {
		t.Fatalf("new reason: changed %v, %v", changed, err)
	}
	got, err := db.TorrentByID(ctx, tor.ID)
	if err != nil || got.Availability != a.State || got.AvailabilityCause != a.Cause || got.AvailabilityReason != a.Reason {
		t.Fatalf("torrent %+v, %v", got, err)
	}
	if changed, err := db.ChangeAvailability(ctx, tor.ID, catalog.AvailabilityOf{State: catalog.AvailabilityOK, Reason: "ignored"}); err != nil || !changed {
		t.Fatalf("back to ok: changed %v, %v", changed, err)
	}
	if changed, err := db.ChangeAvailability(ctx, tor.ID, catalog.AvailabilityOf{State: catalog.AvailabilityOK}); err != nil || changed {
		t.Fatalf("ok again: changed %v, %v", changed, err)
	}
}
