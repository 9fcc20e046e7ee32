package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// Scope narrows a run to collections and torrents (by infohash, prefix or
// name). Empty: every torrent.
type Scope struct {
	Collections []string `json:"collections,omitempty"`
	Torrents    []string `json:"torrents,omitempty"`
}

func (s Scope) empty() bool { return len(s.Collections) == 0 && len(s.Torrents) == 0 }

func parseScope(b []byte) (Scope, error) {
	var s Scope
	if len(b) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("verify: decode run scope: %w", err)
	}
	return s, nil
}

// resolve returns the torrents of the scope that have metadata, skipping
// unavailable ones when skipUnavailable (scheduled runs: they are held
// until an operator clears them).
func resolve(ctx context.Context, db *catalog.DB, s Scope, skipUnavailable bool) ([]catalog.Torrent, error) {
	var ts []catalog.Torrent
	if s.empty() {
		all, err := db.Torrents(ctx, catalog.TorrentFilter{Local: true})
		if err != nil {
			return nil, err
		}
		ts = all
	}
	for _, c := range s.Collections {
		if _, err := db.Collection(ctx, c); err != nil {
			return nil, fmt.Errorf("scope: %w", err) // err names the collection
		}
		cts, err := db.Torrents(ctx, catalog.TorrentFilter{Collection: c, Local: true})
		if err != nil {
			return nil, err
		}
		ts = append(ts, cts...)
	}
	for _, ref := range s.Torrents {
		t, err := db.TorrentByRef(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("scope: %w", err) // err names the torrent
		}
		if !t.Local {
			return nil, fmt.Errorf("scope: torrent %q has no replica on node %q: verify it on a node that holds it", ref, db.NodeID())
		}
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b catalog.Torrent) int { return int(a.ID - b.ID) })
	ts = slices.CompactFunc(ts, func(a, b catalog.Torrent) bool { return a.ID == b.ID })
	return slices.DeleteFunc(ts, func(t catalog.Torrent) bool {
		return !t.HasMetainfo() || t.PieceCount == 0 || (skipUnavailable && t.Availability == catalog.AvailabilityUnavailable)
	}), nil
}

// CheckScope reports the first collection or torrent of scope that this
// node cannot verify (unknown, or without a replica here).
func CheckScope(ctx context.Context, db *catalog.DB, scope Scope) error {
	_, err := resolve(ctx, db, scope, false)
	return err
}

// RequestRun queues a run (kind "manual" or "scheduled") for the daemon,
// which is woken by the NOTIFY on verify_runs. Scope names are checked now
// so that a typo fails at once.
func RequestRun(ctx context.Context, db *catalog.DB, kind catalog.RunKind, scope Scope) (int64, error) {
	if kind != catalog.RunManual && kind != catalog.RunScheduled {
		return 0, fmt.Errorf("verify: run kind %q is not manual or scheduled", kind)
	}
	if err := CheckScope(ctx, db, scope); err != nil {
		return 0, err
	}
	b, err := json.Marshal(scope)
	if err != nil {
		return 0, fmt.Errorf("verify: encode scope: %w", err)
	}
	return db.CreateVerifyRun(ctx, kind, b, db.NodeID(), time.Now())
}
