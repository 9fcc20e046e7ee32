package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

func TestLockSerialisesAndExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := db.Lock(ctx, "import")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u2, err := db.Lock(ctx, "import")
		if err == nil {
			u2()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("second lock taken while the first is held")
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("second lock not taken after unlock")
	}
	// A holder that died leaves its lease: it is taken over once expired.
	pgtest.Exec(t, db, `INSERT INTO leases (name, holder, expires_at) VALUES ('dead', 'gone', now() - interval '1 second')`)
	u3, err := db.Lock(ctx, "dead")
	if err != nil {
		t.Fatal(err)
	}
	u3()
	if n := pgtest.Int(t, db, `SELECT count(*) FROM leases`); n != 0 {
		t.Fatalf("%d leases left after every unlock", n)
	}
}
