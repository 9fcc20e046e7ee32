package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

// With Poll set the notifier LISTENs nowhere and still delivers every
// change, including one committed after a newer one (a lower id read
// late), and nothing twice.
func TestPollingNotifierDeliversChangesCommittedOutOfOrder(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	db := pgtest.Open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	polled, err := catalog.OpenWith(ctx, catalog.Options{URL: url, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer polled.Close()
	n := polled.NewNotifier(zerolog.New(zerolog.NewTestWriter(t)))
	got := make(chan catalog.Change, 64)
	defer n.Subscribe(func(c catalog.Change) { got <- c })()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("polling notifier not ready within 30s")
	}
	if !n.Polling() {
		t.Fatal("Polling() is false with Options.Poll set")
	}
	next := func(what string) catalog.Change {
		t.Helper()
		select {
		case c := <-got:
			return c
		case <-time.After(30 * time.Second):
			t.Fatalf("no change delivered: want %s", what)
			return catalog.Change{}
		}
	}
	if c := next("the first resync"); !c.Resync {
		t.Fatalf("first delivery %+v, want a resync", c)
	}
	// "early" takes its id first but commits after "late".
	commitEarly := pgtest.HoldCommit(t, db, `INSERT INTO collections (name) VALUES ('early')`)
	late, err := db.CreateCollection(ctx, catalog.Collection{Name: "late"})
	if err != nil {
		t.Fatal(err)
	}
	if c := next("the late insert"); c.Table != "collections" || c.Op != "INSERT" || c.ID != late.ID {
		t.Fatalf("change %+v, want collections INSERT %d", c, late.ID)
	}
	commitEarly()
	early := pgtest.Int(t, db, `SELECT id FROM collections WHERE name = 'early'`)
	if early >= late.ID {
		t.Fatalf("early id %d is not below late id %d: the test did not set up a late commit", early, late.ID)
	}
	if c := next("the early insert, committed last"); c.Table != "collections" || c.ID != early {
		t.Fatalf("change %+v, want collections INSERT %d", c, early)
	}
	if err := db.DeleteCollection(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	// Nothing delivered twice: the next change is the delete.
	if c := next("the delete"); c.Op != "DELETE" || c.ID != late.ID {
		t.Fatalf("change %+v, want collections DELETE %d", c, late.ID)
	}
	if listens := pgtest.Int(t, db, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`); listens != 0 {
		t.Fatalf("%d LISTEN sessions with polling on", listens)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("polling notifier did not stop with its context")
	}
}

// Change log rows older than ChangeLogTTL are pruned; newer ones stay.
func TestPruneChangesKeepsRecentRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	for _, name := range []string{"a", "b", "c"} {
		if _, err := db.CreateCollection(ctx, catalog.Collection{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	pgtest.Exec(t, db, `UPDATE catalog_changes SET at = now() - interval '2 hours' WHERE row_id IN (SELECT id FROM collections WHERE name IN ('a', 'b'))`)
	n, err := db.PruneChanges(ctx, 1)
	if err != nil || n != 2 {
		t.Fatalf("PruneChanges: %d %v, want 2 rows", n, err)
	}
	if left := pgtest.Int(t, db, `SELECT count(*) FROM catalog_changes`); left != 1 {
		t.Fatalf("%d change rows left, want 1", left)
	}
}
