package catalog

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// readPartners sets each node's Partners: for every other node, the total
// length of the torrents both hold a replica of (rows not marked for
// removal, fetching ones included: they are copies to be). One grouped
// self-join of the replicas on torrent_id, read only in a pass that
// places a torrent's new copy (not a recovery).
func readPartners(ctx context.Context, tx pgx.Tx, nodes []PlanNode) error {
	rows, err := tx.Query(ctx, partnersSQL)
	if err != nil {
		return err
	}
	at := map[string]int{}
	for i := range nodes {
		at[nodes[i].ID] = i
		nodes[i].Partners = map[string]int64{}
	}
	var a, b string
	var bytes int64
	_, err = pgx.ForEachRow(rows, []any{&a, &b, &bytes}, func() error {
		if i, ok := at[a]; ok {
			nodes[i].Partners[b] = bytes
		}
		if i, ok := at[b]; ok {
			nodes[i].Partners[a] = bytes
		}
		return nil
	})
	return err
}

// partnersSQL sums, per pair of nodes (in id order), the length of the
// torrents with an unmarked replica on both.
const partnersSQL = `SELECT a.node_id, b.node_id, sum(coalesce(t.total_length, 0))::bigint
	FROM replicas a JOIN replicas b ON b.torrent_id = a.torrent_id AND b.node_id > a.node_id
	JOIN torrents t ON t.id = a.torrent_id
	WHERE a.remove_at IS NULL AND b.remove_at IS NULL
	GROUP BY a.node_id, b.node_id`
