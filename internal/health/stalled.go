package health

import (
	"context"
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
)

// checkStalled raises RECOVERY_STALLED (WARN) for the replicas the
// planner placed on this node (recoveries and rebalance moves) that made
// no progress for fleet.recovery_stall_after (catalog.StalledSQL): no
// node holding a complete copy is up, and no other peer has the data.
// They stay placed, but take no recovery slot and do not hold the
// rebalance; each counts again once a piece arrives. The node holding
// them raises it (a node's health is its replicas').
func (e *Evaluator) checkStalled(ctx context.Context, r *Report) error {
	after := e.config().Fleet.StallAfter
	ss, total, err := e.db.StalledReplicas(ctx, after, e.db.NodeID(), MaxDetail)
	if err != nil || total == 0 {
		return err
	}
	shown := make([]catalog.TorrentRef, len(ss))
	lines := make([]string, len(ss))
	for i, s := range ss {
		what := "a recovery"
		if s.MoveFrom != "" {
			what = "a rebalance move from " + s.MoveFrom
		}
		since := s.Since
		shown[i] = catalog.TorrentRef{ID: s.TorrentID, Name: s.Name, InfoHash: s.InfoHash, Bytes: s.BytesLeft, Since: &since,
			Reason: fmt.Sprintf("%s, no progress since %s", what, stamp(&since))}
		lines[i] = fmt.Sprintf("%s (%.12s): %s, no progress since %s, %s left", s.Name, s.InfoHash, what, stamp(&since),
			human.Bytes(s.BytesLeft))
	}
	oldest := ss[0].Since
	r.add(Check{Code: RecoveryStalled, Severity: Warn, Count: total, Torrents: shown, Detail: lines,
		Summary: fmt.Sprintf("%s placed on this node made no progress for %s or more (the oldest since %s, %s ago): no source has their data",
			plural(total, "replica", "replicas"), after, stamp(&oldest), e.now().Sub(oldest).Round(time.Minute)),
		Command: e.cmd("fleet", "status"),
		Hint: "they wait for a source and no longer take recovery slots: bring back a node holding a complete copy ('archivd node list'); " +
			"if every copy is lost, 'archivd rm' the torrent (or add its data again); they resume by themselves once a piece arrives"})
	return nil
}
