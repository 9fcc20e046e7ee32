package catalog

// The typed states of the catalog's lifecycle. Their life (what enters each
// state and every way out) is drawn in docs/ARCHITECTURE.md, "Lifecycle".
// The values are the text stored in the catalog; the CHECK constraints of
// the migrations list the same ones.

// PieceState is the recorded state of one piece (piece_chunks bits).
type PieceState int

const (
	// PieceUnknown: never recorded (known=0), or forgotten after an
	// unclean stop. Hashed before it is trusted.
	PieceUnknown PieceState = iota
	// PieceNotComplete: recorded not complete (known=1, complete=0):
	// still to be downloaded, or handed over for repair.
	PieceNotComplete
	// PieceComplete: recorded complete (known=1, complete=1): verified
	// and durable on disk.
	PieceComplete
)

func (s PieceState) String() string {
	switch s {
	case PieceNotComplete:
		return "not_complete"
	case PieceComplete:
		return "complete"
	}
	return "unknown"
}

// State returns the recorded state of piece p.
func (ps PieceStates) State(p int) PieceState {
	switch {
	case !ps.Known.Get(p):
		return PieceUnknown
	case ps.Complete.Get(p):
		return PieceComplete
	}
	return PieceNotComplete
}

// FindingState is the state of a finding (findings.state).
type FindingState string

const (
	// FindingOpen: the range fails and nobody is repairing it (no
	// repairer, no source in time, or released by an operator).
	FindingOpen FindingState = "open"
	// FindingRepairing: handed to the seeder, fetched again from the swarm.
	FindingRepairing FindingState = "repairing"
	// FindingHeld: repair held (data directory missing or mass failure).
	FindingHeld FindingState = "held"
	// FindingRepaired: closed; the range read back good. Final.
	FindingRepaired FindingState = "repaired"
)

// OpenFindingStates are the states of a finding that is not closed.
var OpenFindingStates = []FindingState{FindingOpen, FindingRepairing, FindingHeld}

// FindingKind is why a piece failed (findings.kind).
type FindingKind string

const (
	FindingHashMismatch FindingKind = "hash_mismatch"
	FindingMissingFile  FindingKind = "missing_file"
	FindingShortFile    FindingKind = "short_file"
	FindingIOError      FindingKind = "io_error"
)

// Repair sources recorded when a finding closes without a delivery.
const (
	// SourceFoundIntact: a later read found the range good although no
	// repair delivered it (put right by hand, or a transient fault).
	SourceFoundIntact = "found intact on re-check"
)

// RunState is the state of a verify run (verify_runs.state).
type RunState string

const (
	RunQueued    RunState = "queued"
	RunRunning   RunState = "running"
	RunDone      RunState = "done"
	RunFailed    RunState = "failed"
	RunCancelled RunState = "cancelled"
)

// Finished reports whether the run will not change any more.
func (s RunState) Finished() bool { return s != RunQueued && s != RunRunning }

// RunKind is what started a verify run (verify_runs.kind).
type RunKind string

const (
	RunScheduled RunKind = "scheduled"
	RunManual    RunKind = "manual"
	RunOffline   RunKind = "offline"
	// RunReadError: queued by the seeder when a read for a peer failed on
	// data recorded complete (RequestReadCheck); run like a manual run.
	RunReadError RunKind = "read_error"
)

// TorrentState is what the operator wants of a torrent (torrents.state)
// or a collection: `archivd pause` and `archivd resume` move between the
// two. The schema also allows 'removed', which nothing writes (`archivd
// rm` deletes the row) and every read leaves out.
type TorrentState string

const (
	TorrentActive TorrentState = "active"
	TorrentPaused TorrentState = "paused"
)

// RangeResult is the last result of a verify range (verify_ranges.last_result).
type RangeResult string

const (
	RangeOK     RangeResult = "ok"
	RangeFailed RangeResult = "failed"
)
