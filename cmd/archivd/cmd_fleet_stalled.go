package main

import (
	"fmt"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/human"
)

// stalledListed bounds the stalled replicas fleet status lists.
const stalledListed = 10

// stalledSuffix is a node's stalled replicas on its recovery line.
func stalledSuffix(n catalog.NodeRecovery) string {
	if n.Stalled == 0 {
		return ""
	}
	return fmt.Sprintf(", %d stalled (%s left)", n.Stalled, human.Bytes(n.StalledBytes))
}

// printStalled prints the stalled lines of fleet status: how many placed
// replicas made no progress for fleet.recovery_stall_after, the oldest,
// and the first of them.
func printStalled(a *app, r catalog.RecoveryStats, list []catalog.StalledReplica) {
	after := time.Duration(r.StallAfter * float64(time.Second))
	if after <= 0 {
		a.printf("stalled:  never (fleet.recovery_stall_after is 0)\n")
		return
	}
	if r.Stalled == 0 {
		a.printf("stalled:  no placed replica without progress for %s\n", after)
		return
	}
	since := "-"
	if r.StalledSince != nil {
		since = stampTime(*r.StalledSince)
	}
	a.printf("stalled:  %s placed without progress for %s or more, %s left, the longest since %s: no source has their data; they wait for one and take no recovery slot\n",
		plural(int(r.Stalled), "replica", "replicas"), after, human.Bytes(r.StalledBytes), since)
	for _, s := range list {
		move := ""
		if s.MoveFrom != "" {
			move = ", a rebalance move from " + s.MoveFrom
		}
		a.printf("  %s: %s (%s), no progress since %s, %s left%s\n", s.Node, s.Name, s.InfoHash, stampTime(s.Since), human.Bytes(s.BytesLeft), move)
	}
	if more := int(r.Stalled) - len(list); more > 0 {
		a.printf("  ... and %d more\n", more)
	}
}
