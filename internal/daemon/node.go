package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
)

// nodeInfo is what this node tells the other nodes, from the config in
// force (a reload shows at the next heartbeat).
func (d *Daemon) nodeInfo(version string) catalog.NodeInfo {
	cfg := d.Config()
	name := cfg.Node.Name
	if name == "" {
		name, _ = os.Hostname()
	}
	return catalog.NodeInfo{Name: name, BTAddr: advertiseAddr(cfg, d.Seeder.ListenAddr()), Zone: cfg.Node.Zone,
		Tags: slices.Clone(cfg.Node.Tags), Version: version}
}

// advertiseAddr is the BitTorrent address other nodes dial:
// node.advertise_address, else the engine's listen address with
// network.announce_ip, or the hostname, in place of an unspecified host.
func advertiseAddr(cfg *config.Config, listen string) string {
	if cfg.Node.AdvertiseAddress != "" {
		return cfg.Node.AdvertiseAddress
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = cfg.Network.AnnounceIP
		if host == "" {
			host, _ = os.Hostname()
		}
	}
	return net.JoinHostPort(host, port)
}

// recordDataRoots writes this node's data roots to the catalog.
func (d *Daemon) recordDataRoots(ctx context.Context, node string) error {
	roots, err := d.dataRoots(ctx)
	if err != nil {
		return err
	}
	return d.DB.SetNodeDataRoots(ctx, node, roots)
}

// dataRoots lists this node's data roots (data_dir and every collection's
// data_root) with the capacity and free space of the filesystem holding
// each (health.Spaces: the nearest existing directory's, for a root not
// created yet; a root that cannot be read is left out).
func (d *Daemon) dataRoots(ctx context.Context) ([]catalog.NodeDataRoot, error) {
	dirs := []string{d.Config().ResolvedDataDir()}
	cs, err := d.DB.Collections(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.DataRoot != "" {
			dirs = append(dirs, c.DataRoot)
		}
	}
	for i, dir := range dirs {
		if abs, err := filepath.Abs(dir); err == nil {
			dirs[i] = abs
		}
	}
	var roots []catalog.NodeDataRoot
	for _, s := range health.Spaces(dirs) {
		for _, r := range s.Roots {
			roots = append(roots, catalog.NodeDataRoot{Path: r, Device: strconv.FormatUint(s.Device, 10),
				CapacityBytes: int64(s.Size), FreeBytes: int64(s.Avail)})
		}
	}
	return roots, nil
}
