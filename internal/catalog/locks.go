package catalog

import (
	"context"
	"fmt"
)

// AdvisoryLock holds a session advisory lock on key until unlock is called:
// the CLI serialises its overlap check and insert against other CLIs.
func (db *DB) AdvisoryLock(ctx context.Context, key int64) (unlock func(), err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: acquire connection for lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("catalog: take advisory lock %d: %w", key, err)
	}
	return func() {
		_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Release()
	}, nil
}
