package daemon

import (
	"context"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/importer"
)

// FleetPolicy maps the configuration to the planner's policy.
func FleetPolicy(cfg *config.Config) fleet.Policy {
	return fleet.Policy{DownOut: cfg.Fleet.DownOutInterval, OutMaxShare: cfg.Fleet.OutMaxShare, Interval: cfg.Fleet.PlanInterval,
		MaxRecoveriesPerNode: cfg.Fleet.MaxRecoveriesPerNode, SendLimited: cfg.Fleet.RecoverySendRate > 0, BalanceMargin: cfg.Fleet.BalanceMargin,
		StallAfter: cfg.Fleet.RecoveryStallAfter}
}

// planner is this node's fleet planner (see fleet.Planner).
func (d *Daemon) planner() *fleet.Planner {
	return &fleet.Planner{DB: d.DB, Node: d.Config().ResolvedNodeID(), Log: d.log,
		Policy: func() fleet.Policy { return FleetPolicy(d.Config()) }, DirsFor: d.placedDirs, Release: d.Seeder.Release,
		Sending: d.Seeder.SetRecoverySending}
}

// placedDirs is where this node keeps torrents the planner placed on it
// (importer.PlacedDirs: below its collection's root, as an import would
// put it, or root/<name>-<infohash> if that overlaps another torrent).
func (d *Daemon) placedDirs(ctx context.Context, ts []catalog.Torrent) ([]string, error) {
	return importer.PlacedDirs(ctx, d.DB, d.Config().ResolvedDataDir(), ts)
}
