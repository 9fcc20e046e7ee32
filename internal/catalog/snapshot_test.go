package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
)

// The last successful verify is the latest whole run of this node that
// finished: runs of some torrents (a read check, `verify NAME`), other
// nodes' runs and runs not done do not move it.
func TestLastSuccessfulVerifyCountsOnlyWholeRunsOfThisNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	db.BindNode("n1")
	whole := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := whole.Add(time.Hour)
	st, err := db.OpsSnapshot(ctx)
	if err != nil || st.LastSuccessfulVerify != nil {
		t.Fatalf("no runs: %v (%v), want none", st.LastSuccessfulVerify, err)
	}
	pgtest.Exec(t, db, `INSERT INTO verify_runs (kind, scope, state, node_id, finished_at) VALUES
		('scheduled', '{}', 'done', 'n1', $1),
		('read_error', '{"torrents": ["aa"]}', 'done', 'n1', $2),
		('manual', '{"torrents": ["aa"]}', 'done', 'n1', $2),
		('scheduled', '{}', 'done', 'n2', $2),
		('scheduled', '{}', 'failed', 'n1', $2),
		('manual', '{}', 'cancelled', 'n1', $2)`, whole, later)
	st, err = db.OpsSnapshot(ctx)
	if err != nil || st.LastSuccessfulVerify == nil || !st.LastSuccessfulVerify.Equal(whole) {
		t.Fatalf("last successful verify %v (%v), want the whole run of n1 at %v", st.LastSuccessfulVerify, err, whole)
	}
	pgtest.Exec(t, db, `INSERT INTO verify_runs (kind, scope, state, node_id, finished_at) VALUES ('offline', '{}', 'done', 'n1', $1)`, later)
	st, err = db.OpsSnapshot(ctx)
	if err != nil || st.LastSuccessfulVerify == nil || !st.LastSuccessfulVerify.Equal(later) {
		t.Fatalf("after a whole offline run: %v (%v), want %v", st.LastSuccessfulVerify, err, later)
	}
}
