package daemon

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/importer"
	"github.com/archivd/archivd/internal/torrentfile"
)

// FleetPolicy maps the configuration to the planner's policy.
func FleetPolicy(cfg *config.Config) fleet.Policy {
	return fleet.Policy{DownOut: cfg.Fleet.DownOutInterval, OutMaxShare: cfg.Fleet.OutMaxShare, Interval: cfg.Fleet.PlanInterval,
		MaxRecoveriesPerNode: cfg.Fleet.MaxRecoveriesPerNode}
}

// planner is this node's fleet planner (see fleet.Planner).
func (d *Daemon) planner() *fleet.Planner {
	return &fleet.Planner{DB: d.DB, Node: d.Config().ResolvedNodeID(), Log: d.log,
		Policy: func() fleet.Policy { return FleetPolicy(d.Config()) }, DirFor: d.placedDir, Release: d.Seeder.Release}
}

// placedDir is where this node keeps a torrent the planner placed on it:
// below its collection's root on this node (the collection's data_root,
// else data_dir/<collection>), as an import would put it.
func (d *Daemon) placedDir(ctx context.Context, t catalog.Torrent) (string, error) {
	c, err := d.DB.Collection(ctx, t.Collection)
	if err != nil {
		return "", err
	}
	tf, err := torrentfile.Parse(t.Metainfo)
	if err != nil {
		return "", fmt.Errorf("read its metainfo: %w", err)
	}
	return tf.DataDirFor(importer.CollectionRoot(d.Config().ResolvedDataDir(), c)), nil
}
