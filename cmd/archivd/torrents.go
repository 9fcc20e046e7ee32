package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
)

// torrentView is a torrent as list and show print it.
type torrentView struct {
	catalog.Torrent
	InfoHashHex    string  `json:"infohash"`
	PiecesComplete int     `json:"pieces_complete"`
	PiecesKnown    int     `json:"pieces_known"`
	CompletePct    float64 `json:"complete_pct"`
	// EffectiveState: paused when the torrent or its collection is paused.
	EffectiveState string `json:"effective_state"`
	// Engine: what a running daemon's engine does with it right now
	// (seeding, checking, downloading, fetching_metadata); absent when no
	// running daemon has it.
	Engine *catalog.TorrentEngineState `json:"engine,omitempty"`
	// Nodes holding a replica. The availability, pieces, data dir and
	// totals above are this node's replica's (Local false: it holds none).
	Nodes []string `json:"nodes"`
}

// availabilityText is the availability column: this node's replica's, or
// "elsewhere" when this node holds none.
func (v torrentView) availabilityText() string {
	if !v.Local {
		return "elsewhere"
	}
	return string(v.Availability)
}

func nodesText(nodes []string) string {
	if len(nodes) == 0 {
		return "-"
	}
	return strings.Join(nodes, ",")
}

func viewOf(ctx context.Context, db *catalog.DB, t catalog.Torrent) (torrentView, error) {
	var ps catalog.PieceStates
	if t.PieceCount > 0 {
		var err error
		if ps, err = db.LoadPieces(ctx, t.ID, t.PieceCount); err != nil {
			return torrentView{}, err
		}
	}
	return viewWith(t, ps), nil
}

// viewWith is the view of t with its loaded piece states.
func viewWith(t catalog.Torrent, ps catalog.PieceStates) torrentView {
	v := torrentView{Torrent: t, InfoHashHex: t.HexHash(), EffectiveState: string(t.State)}
	if t.State == catalog.TorrentActive && t.CollectionState != catalog.TorrentActive {
		v.EffectiveState = "paused (collection)"
	}
	if t.PieceCount > 0 && ps.N == t.PieceCount {
		for i := 0; i < t.PieceCount; i++ {
			if ps.Known.Get(i) {
				v.PiecesKnown++
				if ps.Complete.Get(i) {
					v.PiecesComplete++
				}
			}
		}
		v.CompletePct = float64(int(1000*float64(v.PiecesComplete)/float64(t.PieceCount))) / 10
	}
	return v
}

// resolveRefs finds every torrent named by refs (name or infohash) before
// anything is changed, so a typo changes nothing. With collection set, the
// torrents must belong to it.
func resolveRefs(ctx context.Context, db *catalog.DB, refs []string, collection string) ([]catalog.Torrent, error) {
	var out []catalog.Torrent
	seen := map[int64]bool{}
	for _, ref := range refs {
		t, err := db.TorrentByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		if collection != "" && t.Collection != collection {
			return nil, fmt.Errorf("torrent %q is in collection %q, not %q: %w", ref, t.Collection, collection, catalog.ErrNotFound)
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func shortHash(t catalog.Torrent) string { return t.HexHash()[:12] }
