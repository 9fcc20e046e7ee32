package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

// The notifier delivers typed changes after Ready, reconnects after its
// session is killed (telling subscribers to resync) and stops with its
// context.
func TestNotifierDeliversChangesAndResyncsAfterReconnect(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	n := db.NewNotifier(zerolog.New(zerolog.NewTestWriter(t)))
	got := make(chan catalog.Change, 16)
	unsubscribe := n.Subscribe(func(c catalog.Change) { got <- c })
	defer unsubscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("notifier not ready within 30s")
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
	coll, err := db.CreateCollection(ctx, catalog.Collection{Name: "maps"})
	if err != nil {
		t.Fatal(err)
	}
	if c := next("the collection insert"); c.Table != "collections" || c.Op != "INSERT" || c.ID != coll.ID {
		t.Fatalf("change %+v, want collections INSERT %d", c, coll.ID)
	}
	// Kill the LISTEN session: the notifier reconnects and asks for a resync.
	pgtest.Exec(t, db, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`)
	if c := next("a resync after the reconnect"); !c.Resync {
		t.Fatalf("after the session was killed: %+v, want a resync", c)
	}
	if up, err := n.Listening(); !up || err != nil {
		t.Fatalf("listening after reconnect: %v %v", up, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
