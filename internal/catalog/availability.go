package catalog

import (
	"context"
	"fmt"
)

// Availability says whether a torrent's data can be served (see the state
// diagram in docs/ARCHITECTURE.md).
//
//   - ok: in the engine, seeding and downloading.
//   - unavailable: held out of the engine (not seeded, not downloaded, not
//     repaired) because its data is gone or mostly bad; Cause says why.
//     Left automatically when a re-check hashes the data back good (the
//     daemon re-checks with backoff, at start, on SIGHUP and on catalog
//     changes), or by `archivd resume NAME`, which runs the same check.
//   - degraded: in the engine and seeding what it has, but writing fails
//     (disk full, quota, read-only, I/O error); downloads are suspended and
//     retried with backoff, and the first write that works leaves it.
type Availability string

// The availability states.
const (
	AvailabilityOK          Availability = "ok"
	AvailabilityUnavailable Availability = "unavailable"
	AvailabilityDegraded    Availability = "degraded"
)

// Runnable reports whether a torrent in this state belongs in the engine.
func (a Availability) Runnable() bool { return a != AvailabilityUnavailable }

// AvailabilityCause is the typed reason of an availability other than ok.
type AvailabilityCause string

// Causes. The first four make a torrent unavailable, the write faults
// make it degraded.
const (
	CauseNone AvailabilityCause = ""
	// CauseDataMissing: the data directory, or every file of the torrent,
	// is gone while pieces are recorded complete (an unmounted disk).
	CauseDataMissing AvailabilityCause = "data_missing"
	// CauseDataUnreadable: the data directory cannot be read (permissions,
	// not a directory, I/O error on the directory itself).
	CauseDataUnreadable AvailabilityCause = "data_unreadable"
	// CauseMassFailure: too large a share of the checked pieces is bad.
	CauseMassFailure AvailabilityCause = "mass_failure"
	// CauseBadMetadata: a magnet's fetched metadata cannot be used.
	CauseBadMetadata AvailabilityCause = "bad_metadata"

	CauseDiskFull      AvailabilityCause = "disk_full"
	CauseQuotaExceeded AvailabilityCause = "quota_exceeded"
	CauseReadOnly      AvailabilityCause = "read_only"
	CauseWriteIOError  AvailabilityCause = "write_io_error"
)

// AvailabilityOf is a torrent's availability with its cause and the
// human-readable reason.
type AvailabilityOf struct {
	State  Availability
	Cause  AvailabilityCause
	Reason string
}

// SetAvailability records the availability of this node's replica of a
// torrent. An ok state clears cause and reason.
func (db *DB) SetAvailability(ctx context.Context, id int64, a AvailabilityOf) error {
	if a.State == AvailabilityOK {
		a.Cause, a.Reason = CauseNone, ""
	}
	if _, err := db.pool.Exec(ctx, `UPDATE replicas SET availability = $2, availability_cause = $3,
		availability_reason = $4, updated_at = now() WHERE torrent_id = $1 AND node_id = $5`,
		id, string(a.State), string(a.Cause), a.Reason, db.NodeID()); err != nil {
		return fmt.Errorf("catalog: set availability of torrent %d to %s: %w", id, a.State, err)
	}
	return nil
}

// ChangeAvailability sets this node's replica of a torrent to a unless it
// is in that state already (state, cause and reason), and reports whether
// it changed: of two processes writing the same state at once (the
// daemon's re-check and `archivd resume`) exactly one sees true.
func (db *DB) ChangeAvailability(ctx context.Context, id int64, a AvailabilityOf) (bool, error) {
	if a.State == AvailabilityOK {
		a.Cause, a.Reason = CauseNone, ""
	}
	tag, err := db.pool.Exec(ctx, `UPDATE replicas SET availability = $2, availability_cause = $3,
		availability_reason = $4, updated_at = now() WHERE torrent_id = $1 AND node_id = $5
		AND (availability, availability_cause, availability_reason) IS DISTINCT FROM ($2, $3, $4)`,
		id, string(a.State), string(a.Cause), a.Reason, db.NodeID())
	if err != nil {
		return false, fmt.Errorf("catalog: set availability of torrent %d to %s: %w", id, a.State, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClearAvailability sets this node's replica of a torrent back to ok if it is in state from, and
// reports whether it was (another process may have cleared it first).
func (db *DB) ClearAvailability(ctx context.Context, id int64, from Availability) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE replicas SET availability = 'ok', availability_cause = '',
		availability_reason = '', updated_at = now() WHERE torrent_id = $1 AND node_id = $3 AND availability = $2`,
		id, string(from), db.NodeID())
	if err != nil {
		return false, fmt.Errorf("catalog: clear availability of torrent %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}
