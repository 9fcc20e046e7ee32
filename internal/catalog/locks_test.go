package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

func TestCLIAdvisoryLockSerialises(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := db.AdvisoryLock(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u2, err := db.AdvisoryLock(ctx, 42)
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
}
