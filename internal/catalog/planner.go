package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The planner (issue 12: placement and recovery) runs on one node at a
// time: the holder of the lease row "planner" in table leases, river-style.
// The holder renews it every pass; a holder that dies loses it when
// expires_at passes and another node takes it. Every write of a pass runs
// in one transaction that first locks the lease row and checks the holder
// still has it: two planners never write at once, and a planner whose
// lease was taken over writes nothing (ErrNotLeader).
const plannerLease = "planner"

// ErrNotLeader is returned (wrapped) by a planner write when its holder
// does not hold the planner lease.
var ErrNotLeader = errors.New("not the planner's leader")

// LeadPlanner takes the planner lease for holder, or renews it when holder
// has it, for ttl from the catalog's clock. It reports whether holder
// leads now.
func (db *DB) LeadPlanner(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO leases (name, holder, expires_at)
		VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
		ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < clock_timestamp()`, plannerLease, holder, ttl.Seconds())
	if err != nil {
		return false, fmt.Errorf("catalog: take the planner lease for %q: %w", holder, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ResignPlanner gives the planner lease up if holder has it.
func (db *DB) ResignPlanner(ctx context.Context, holder string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, plannerLease, holder); err != nil {
		return fmt.Errorf("catalog: give the planner lease up: %w", err)
	}
	return nil
}

// PlannerLeader names the holder of a planner lease that has not expired
// ("" = none).
func (db *DB) PlannerLeader(ctx context.Context) (string, error) {
	var h string
	err := db.pool.QueryRow(ctx, `SELECT holder FROM leases WHERE name = $1 AND expires_at > clock_timestamp()`, plannerLease).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("catalog: read the planner lease: %w", err)
	}
	return h, nil
}

// asLeader runs fn in a transaction holding the planner lease row locked,
// if holder has the lease.
func (db *DB) asLeader(ctx context.Context, holder string, fn func(pgx.Tx) error) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		err := tx.QueryRow(ctx, `SELECT true FROM leases WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp()
			FOR UPDATE`, plannerLease, holder).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotLeader
		}
		if err != nil {
			return err
		}
		return fn(tx)
	})
}

// MarkNodesOut marks the nodes ids out automatically (out_auto: they are
// in again when they start), with reason, if holder leads the planner and
// they are still down and in. It returns the ids it marked.
func (db *DB) MarkNodesOut(ctx context.Context, holder string, ids []string, reason string) ([]string, error) {
	var marked []string
	err := db.asLeader(ctx, holder, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE nodes n SET out_at = now(), out_reason = $3, out_auto = true
			WHERE n.id = ANY($2) AND n.out_at IS NULL AND NOT `+nodeUpSQL+` RETURNING n.id`, NodeUpTTL.Seconds(), ids, reason)
		if err != nil {
			return err
		}
		marked, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: mark nodes %v out: %w", ids, err)
	}
	return marked, nil
}
