package catalog

import (
	"context"
	"fmt"
	"math/bits"
	"sort"

	"github.com/jackc/pgx/v5"
)

// ChunkPieces is how many pieces one piece_chunks row covers.
const ChunkPieces = 65536

// Bits is a bitfield, most significant bit first (BitTorrent order).
type Bits []byte

// NewBits returns a zeroed bitfield of n bits.
func NewBits(n int) Bits { return make(Bits, (n+7)/8) }

// Get reports bit i.
func (b Bits) Get(i int) bool { return i/8 < len(b) && b[i/8]&(0x80>>(i%8)) != 0 }

// Set sets bit i to v.
func (b Bits) Set(i int, v bool) {
	if v {
		b[i/8] |= 0x80 >> (i % 8)
	} else {
		b[i/8] &^= 0x80 >> (i % 8)
	}
}

// Ones returns how many bits are set.
func (b Bits) Ones() int {
	c := 0
	for _, x := range b {
		c += bits.OnesCount8(x)
	}
	return c
}

// Count returns how many of the first n bits are set.
func (b Bits) Count(n int) int {
	c := 0
	for i := 0; i < n; i++ {
		if b.Get(i) {
			c++
		}
	}
	return c
}

// PieceStates is the recorded state of all pieces of a torrent.
type PieceStates struct {
	N        int
	Known    Bits // recorded at all; unknown pieces must be hashed
	Complete Bits // recorded complete (only meaningful where Known)
}

// PieceUpdate records piece Piece as complete or not.
type PieceUpdate struct {
	Piece    int
	Complete bool
}

// LoadPieces reads the recorded state of a torrent's n pieces in one query.
func (db *DB) LoadPieces(ctx context.Context, torrentID int64, n int) (PieceStates, error) {
	ps := PieceStates{N: n, Known: NewBits(n), Complete: NewBits(n)}
	rows, err := db.pool.Query(ctx, `SELECT chunk, known, complete FROM piece_chunks WHERE torrent_id = $1 AND node_id = $2`, torrentID, db.NodeID())
	if err != nil {
		return ps, fmt.Errorf("catalog: load piece state of torrent %d: %w", torrentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var chunk int
		var known, complete []byte
		if err := rows.Scan(&chunk, &known, &complete); err != nil {
			return ps, fmt.Errorf("catalog: load piece state of torrent %d: %w", torrentID, err)
		}
		off := chunk * ChunkPieces / 8
		if off < len(ps.Known) {
			copy(ps.Known[off:], known)
			copy(ps.Complete[off:], complete)
		}
	}
	if err := rows.Err(); err != nil {
		return ps, fmt.Errorf("catalog: load piece state of torrent %d: %w", torrentID, err)
	}
	return ps, nil
}

// StorePieces records piece updates of several torrents in one transaction
// (group commit). The caller must have made completed pieces durable first.
func (db *DB) StorePieces(ctx context.Context, updates map[int64][]PieceUpdate) error {
	ids := make([]int64, 0, len(updates))
	for id := range updates {
		ids = append(ids, id)
	}
	// A fixed lock order keeps concurrent writers from deadlocking.
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockReplicas(ctx, tx, db.NodeID(), ids); err != nil {
			return err
		}
		for _, id := range ids {
			if err := storeTorrentPieces(ctx, tx, id, db.NodeID(), updates[id]); err != nil {
				return err
			}
		}
		return syncCompletion(ctx, tx, db.NodeID(), ids)
	})
	if isForeignKeyViolation(err) {
		return fmt.Errorf("catalog: record piece state: %w: %w", ErrTorrentGone, err)
	}
	if err != nil {
		return fmt.Errorf("catalog: record piece state: %w", err)
	}
	return nil
}

// lockReplicas takes, in the order of ids (sorted), a transaction lock
// per replica of node of torrents ids before their pieces are written:
// the writers of one replica's pieces (the store's commits, a scrub, a
// re-check) take turns, so the completion each computes after its writes
// sees the others' (syncCompletion), also for a torrent of several
// piece_chunks rows. An advisory lock, not the replicas row's: the
// planner's leader locks replicas rows (marks, moves) in its own order,
// and holding rows of several replicas here would risk a deadlock with
// it; the row is locked only at the end, and only when its completion
// changes.
func lockReplicas(ctx context.Context, tx pgx.Tx, node string, ids []int64) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('archivd pieces ' || $1 || ' ' || id, 0))
		FROM unnest($2::bigint[]) AS id`, node, ids); err != nil {
		return fmt.Errorf("lock the piece state of %d replicas: %w", len(ids), err)
	}
	return nil
}

// completeSQL is whether the replica r (of torrent t) has every piece
// recorded complete: what replicas.completed_at records (migration 017).
// A piece forgotten (recorded unknown, ForgetPieces) keeps its complete
// bit and still counts, as it did in every sum before the flag.
const completeSQL = `(t.piece_count IS NOT NULL AND (SELECT coalesce(sum(bit_count(p.complete)), 0) FROM piece_chunks p
	WHERE p.torrent_id = r.torrent_id AND p.node_id = r.node_id) >= t.piece_count)`

// syncCompletion makes node's replicas of torrents ids record their
// completion: completed_at set (now) when every piece is recorded
// complete and it was not, cleared when a piece is not. Only the rows
// that change are written. A change restarts the replica's progress
// clock (progress_at, migration 019): a replica that lost a piece is
// fetching again from now, not stalled since it completed.
func syncCompletion(ctx context.Context, tx pgx.Tx, node string, ids []int64) error {
	if _, err := tx.Exec(ctx, `UPDATE replicas r SET completed_at = CASE WHEN r.completed_at IS NULL THEN now() END, progress_at = now()
		FROM torrents t WHERE t.id = r.torrent_id AND r.node_id = $1 AND r.torrent_id = ANY($2)
			AND (r.completed_at IS NOT NULL) <> `+completeSQL, node, ids); err != nil {
		return fmt.Errorf("record the completion of %d replicas: %w", len(ids), err)
	}
	return nil
}

func storeTorrentPieces(ctx context.Context, tx pgx.Tx, id int64, node string, ups []PieceUpdate) error {
	byChunk := map[int][]PieceUpdate{}
	for _, u := range ups {
		byChunk[u.Piece/ChunkPieces] = append(byChunk[u.Piece/ChunkPieces], u)
	}
	chunks := make([]int, 0, len(byChunk))
	for c := range byChunk {
		chunks = append(chunks, c)
	}
	sort.Ints(chunks)
	for _, c := range chunks {
		var known, complete Bits
		err := tx.QueryRow(ctx, `SELECT known, complete FROM piece_chunks WHERE torrent_id = $1 AND node_id = $3 AND chunk = $2 FOR UPDATE`,
			id, c, node).Scan(&known, &complete)
		if err != nil && err != pgx.ErrNoRows {
			return fmt.Errorf("torrent %d chunk %d: %w", id, c, err)
		}
		known, complete = grow(known, ChunkPieces), grow(complete, ChunkPieces)
		before := complete.Ones()
		for _, u := range byChunk[c] {
			i := u.Piece - c*ChunkPieces
			known.Set(i, true)
			complete.Set(i, u.Complete)
		}
		// grown_at: the replica's progress (migration 019), when the
		// chunk's count of pieces complete grows.
		if _, err := tx.Exec(ctx, `INSERT INTO piece_chunks (torrent_id, node_id, chunk, known, complete, grown_at)
			VALUES ($1, $5, $2, $3, $4, CASE WHEN $6 THEN now() END)
			ON CONFLICT (torrent_id, node_id, chunk) DO UPDATE SET known = EXCLUDED.known, complete = EXCLUDED.complete, updated_at = now(),
				grown_at = coalesce(EXCLUDED.grown_at, piece_chunks.grown_at)`,
			id, c, []byte(known), []byte(complete), node, complete.Ones() > before); err != nil {
			return fmt.Errorf("torrent %d chunk %d: %w", id, c, err)
		}
	}
	return nil
}

func grow(b Bits, n int) Bits {
	if len(b) >= (n+7)/8 {
		return b
	}
	g := NewBits(n)
	copy(g, b)
	return g
}

// writeAllComplete records all n pieces of a new torrent as complete.
func writeAllComplete(ctx context.Context, tx pgx.Tx, id int64, node string, n int) error {
	for c := 0; c*ChunkPieces < n; c++ {
		cnt := min(ChunkPieces, n-c*ChunkPieces)
		bits := NewBits(cnt)
		for i := range cnt {
			bits.Set(i, true)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO piece_chunks (torrent_id, node_id, chunk, known, complete) VALUES ($1, $4, $2, $3, $3)`,
			id, c, []byte(bits), node); err != nil {
			return fmt.Errorf("record pieces complete: %w", err)
		}
	}
	return nil
}

// ForgetPieces makes the given pieces unknown again (they will be hashed
// before they are trusted). The daemon never forgets pieces on its own
// (an unclean stop leaves every recorded state true); ReleaseTorrent does
// it for the pieces of the findings it releases, and tests use it.
func (db *DB) ForgetPieces(ctx context.Context, torrentID int64, pieces []int) error {
	return db.inTx(ctx, func(tx pgx.Tx) error { return forgetPieces(ctx, tx, db.NodeID(), torrentID, pieces) })
}

func forgetPieces(ctx context.Context, tx pgx.Tx, node string, torrentID int64, pieces []int) error {
	byChunk := map[int][]int{}
	for _, p := range pieces {
		byChunk[p/ChunkPieces] = append(byChunk[p/ChunkPieces], p%ChunkPieces)
	}
	for c, ps := range byChunk {
		var known Bits
		err := tx.QueryRow(ctx, `SELECT known FROM piece_chunks WHERE torrent_id = $1 AND node_id = $3 AND chunk = $2 FOR UPDATE`,
			torrentID, c, node).Scan(&known)
		if err == pgx.ErrNoRows {
			continue
		}
		if err != nil {
			return fmt.Errorf("catalog: forget pieces of torrent %d: %w", torrentID, err)
		}
		for _, i := range ps {
			known.Set(i, false)
		}
		if _, err := tx.Exec(ctx, `UPDATE piece_chunks SET known = $3, updated_at = now() WHERE torrent_id = $1 AND node_id = $4 AND chunk = $2`,
			torrentID, c, []byte(known), node); err != nil {
			return fmt.Errorf("catalog: forget pieces of torrent %d: %w", torrentID, err)
		}
	}
	return nil
}

// CompletedPieces counts the recorded complete pieces of each torrent.
func (db *DB) CompletedPieces(ctx context.Context, torrentID int64, n int) (int, error) {
	ps, err := db.LoadPieces(ctx, torrentID, n)
	if err != nil {
		return 0, err
	}
	c := 0
	for i := 0; i < n; i++ {
		if ps.Known.Get(i) && ps.Complete.Get(i) {
			c++
		}
	}
	return c, nil
}

// LoadPiecesOf reads the recorded state of many torrents' pieces in one
// query; counts gives each torrent's piece count. A torrent with nothing
// recorded gets empty (all unknown) states.
func (db *DB) LoadPiecesOf(ctx context.Context, counts map[int64]int) (map[int64]PieceStates, error) {
	ids := make([]int64, 0, len(counts))
	out := make(map[int64]PieceStates, len(counts))
	for id, n := range counts {
		ids = append(ids, id)
		out[id] = PieceStates{N: n, Known: NewBits(n), Complete: NewBits(n)}
	}
	rows, err := db.pool.Query(ctx, `SELECT torrent_id, chunk, known, complete FROM piece_chunks WHERE torrent_id = ANY($1) AND node_id = $2`,
		ids, db.NodeID())
	if err != nil {
		return nil, fmt.Errorf("catalog: load piece state of %d torrents: %w", len(ids), err)
	}
	defer rows.Close()
	var id int64
	var chunk int
	var known, complete []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &chunk, &known, &complete}, func() error {
		ps := out[id]
		if off := chunk * ChunkPieces / 8; off < len(ps.Known) {
			copy(ps.Known[off:], known)
			copy(ps.Complete[off:], complete)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: load piece state of %d torrents: %w", len(ids), err)
	}
	return out, nil
}
