package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/rs/zerolog"
)

// A beat that fails because the catalog was away (its restart broke the
// pool's connections) is tried again within seconds, not at the next beat:
// with a beat of an hour, the node is recorded up again as soon as
// PostgreSQL is back. Before, the next attempt waited for the next tick,
// and a catalog restart could leave the node ~30 s without a refresh (not
// live for `archivd verify --wait`) while it ran.
func TestFailedHeartbeatIsRetriedBeforeTheNextBeat(t *testing.T) {
	t.Parallel()
	srv, opts, url := pgtest.Own(t)
	db := pgtest.Open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := db.StartNode(ctx, "n", "host"); err != nil {
		t.Fatal(err)
	}
	// The pool keeps the connection StartNode used: the stop breaks it.
	sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
	defer scancel()
	if err := srv.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		beatLoop(ctx, time.Hour, zerolog.New(zerolog.NewTestWriter(t)), func(bctx context.Context) error {
			err := db.HeartbeatNode(bctx, "n", catalog.NodeInfo{Name: "n"})
			select {
			case results <- err:
			default:
			}
			return err
		})
	}()
	select {
	case err := <-results:
		if err == nil {
			t.Fatal("a heartbeat succeeded with PostgreSQL stopped")
		}
	case <-time.After(time.Minute):
		t.Fatal("no heartbeat attempted within a minute of the loop's start")
	}
	restarted := time.Now()
	if _, err := pgserver.Start(sctx, opts); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Minute, "a heartbeat recorded after PostgreSQL came back", func() bool {
		for {
			select {
			case err := <-results:
				if err == nil {
					return true
				}
			default:
				return false
			}
		}
	})
	if n := pgtest.Int(t, db, `SELECT count(*) FROM nodes WHERE id = 'n' AND last_seen_at >= $1`, restarted.Add(-time.Second)); n != 1 {
		t.Fatalf("node row not refreshed after the restart (%d rows)", n)
	}
	cancel()
	<-done
}
