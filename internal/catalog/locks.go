package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/backoff"
)

// LeaseTTL is how long a lease outlives its holder's last renewal.
const LeaseTTL = 30 * time.Second

// Lock holds the lease name (a row of table leases) until unlock is
// called, waiting with backoff while another holder has it. Each
// statement commits on its own, so it works behind a transaction-mode
// PgBouncer; the lease is renewed every LeaseTTL/3 while held, and a
// holder that dies releases it after LeaseTTL.
func (db *DB) Lock(ctx context.Context, name string) (unlock func(), err error) {
	holder, err := newHolder()
	if err != nil {
		return nil, err
	}
	wait := backoff.Backoff{Min: 20 * time.Millisecond, Max: time.Second}
	for {
		ok, err := db.takeLease(ctx, name, holder)
		if err != nil {
			return nil, fmt.Errorf("catalog: take lease %q: %w", name, err)
		}
		if ok {
			break
		}
		if err := backoff.Sleep(ctx, wait.Next()); err != nil {
			return nil, fmt.Errorf("catalog: wait for lease %q: %w", name, err)
		}
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); db.renewLease(renewCtx, name, holder) }()
	return func() {
		stop()
		wg.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		// Best effort: a lease not deleted expires after LeaseTTL.
		_, _ = db.pool.Exec(rctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder)
	}, nil
}

// takeLease inserts the lease, or takes it over when it has expired.
func (db *DB) takeLease(ctx context.Context, name, holder string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO leases (name, holder, expires_at)
		VALUES ($1, $2, clock_timestamp() + $3::interval)
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE leases.expires_at < clock_timestamp()`, name, holder, LeaseTTL.String())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// renewLease extends the lease every LeaseTTL/3 until ctx ends.
func (db *DB) renewLease(ctx context.Context, name, holder string) {
	t := time.NewTicker(LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A failed renewal is retried at the next tick; the lease has
		// two more ticks before it expires.
		_, _ = db.pool.Exec(ctx, `UPDATE leases SET expires_at = clock_timestamp() + $3::interval
			WHERE name = $1 AND holder = $2`, name, holder, LeaseTTL.String())
	}
}

func newHolder() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("catalog: lease holder id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
