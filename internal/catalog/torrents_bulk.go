package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AddTorrents stores many new torrents (with their files, and all pieces
// complete where Verified) in one transaction of three round trips: the
// fast path for synthetic catalogs and large batches. It does no overlap
// check (see internal/importer) and fails as a whole on a duplicate.
// Each torrent gets a replica on this handle's node and on its AlsoOn nodes.
// It returns the new torrents' ids, in the order of ns.
func (db *DB) AddTorrents(ctx context.Context, ns []NewTorrent) ([]int64, error) {
	ids := make([]int64, len(ns))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		colls := map[string]int64{}
		b := &pgx.Batch{}
		for _, n := range ns {
			if _, ok := colls[n.Collection]; !ok {
				var id int64
				if err := tx.QueryRow(ctx, `SELECT id FROM collections WHERE name = $1`, n.Collection).Scan(&id); err != nil {
					return fmt.Errorf("collection %q: %w", n.Collection, err)
				}
				colls[n.Collection] = id
			}
			b.Queue(`INSERT INTO torrents (collection_id, infohash, infohash_v2, name, metainfo, piece_length, piece_count,
				total_length, data_dir, trackers, web_seeds, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
				colls[n.Collection], n.InfoHash[:], n.InfoHashV2, n.Name, n.Metainfo, n.PieceLength, n.PieceCount,
				n.TotalLength, n.DataDir, orEmpty(n.Trackers), orEmpty(n.WebSeeds), orDefault(n.Source, "cli"))
		}
		res := tx.SendBatch(ctx, b)
		for i := range ns {
			if err := res.QueryRow().Scan(&ids[i]); err != nil {
				res.Close()
				return fmt.Errorf("insert torrent %x: %w", ns[i].InfoHash, err)
			}
		}
		if err := res.Close(); err != nil {
			return err
		}
		return copyFilesAndPieces(ctx, tx, ns, ids, db.NodeID())
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: add %d torrents: %w", len(ns), err)
	}
	return ids, nil
}

// TorrentsByIDs returns the torrents of ids (in no particular order; ids
// not found are left out), as this handle's node sees them.
func (db *DB) TorrentsByIDs(ctx context.Context, ids []int64) ([]Torrent, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+torrentCols+torrentFrom(1)+` WHERE t.id = ANY($2)`, db.NodeID(), ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: read %d torrents: %w", len(ids), err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Torrent, error) { return scanTorrent(r) })
	if err != nil {
		return nil, fmt.Errorf("catalog: read %d torrents: %w", len(ids), err)
	}
	for i := range ts {
		ts[i].Node = db.NodeID()
	}
	return ts, nil
}

func copyFilesAndPieces(ctx context.Context, tx pgx.Tx, ns []NewTorrent, ids []int64, node string) error {
	var files, chunks, replicas [][]any
	now := time.Now()
	for i, n := range ns {
		on := append([]string{node}, n.AlsoOn...)
		// Every piece recorded complete: the replicas are complete
		// (completed_at, as syncCompletion would set it).
		var done *time.Time
		if n.Verified && n.PieceCount > 0 {
			done = &now
		}
		for _, nd := range on {
			replicas = append(replicas, []any{ids[i], nd, n.DataDir, done})
		}
		for _, f := range n.Files {
			files = append(files, []any{ids[i], f.Index, f.Path, f.Length, f.Offset})
		}
		if !n.Verified {
			continue
		}
		for c := 0; c*ChunkPieces < n.PieceCount; c++ {
			cnt := min(ChunkPieces, n.PieceCount-c*ChunkPieces)
			bits := NewBits(cnt)
			for j := range cnt {
				bits.Set(j, true)
			}
			for _, nd := range on {
				chunks = append(chunks, []any{ids[i], nd, c, []byte(bits), []byte(bits)})
			}
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"torrent_files"}, []string{"torrent_id", "idx", "path", "length", "offset"},
		pgx.CopyFromRows(files)); err != nil {
		return fmt.Errorf("store files: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"replicas"}, []string{"torrent_id", "node_id", "data_dir", "completed_at"},
		pgx.CopyFromRows(replicas)); err != nil {
		return fmt.Errorf("store replicas: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"piece_chunks"}, []string{"torrent_id", "node_id", "chunk", "known", "complete"},
		pgx.CopyFromRows(chunks)); err != nil {
		return fmt.Errorf("record pieces complete: %w", err)
	}
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
