package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"golang.org/x/sys/unix"
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
// each: the nearest existing directory's, for a root not created yet.
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
	var roots []catalog.NodeDataRoot
	seen := map[string]bool{}
	for _, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil || seen[abs] {
			continue
		}
		seen[abs] = true
		roots = append(roots, statRoot(abs))
	}
	return roots, nil
}

// statRoot reads the filesystem holding dir (or its nearest existing
// parent); Error says why it could not.
func statRoot(dir string) catalog.NodeDataRoot {
	r := catalog.NodeDataRoot{Path: dir}
	p := dir
	for {
		var st unix.Stat_t
		err := unix.Stat(p, &st)
		if err == nil {
			var fs unix.Statfs_t
			if err := unix.Statfs(p, &fs); err != nil {
				r.Error = fmt.Sprintf("statfs %s: %v", p, err)
				return r
			}
			r.Device = strconv.FormatUint(st.Dev, 10)
			r.CapacityBytes = int64(fs.Blocks) * fs.Bsize
			r.FreeBytes = int64(fs.Bavail) * fs.Bsize
			return r
		}
		parent := filepath.Dir(p)
		if err != unix.ENOENT || parent == p {
			r.Error = fmt.Sprintf("stat %s: %v", p, err)
			return r
		}
		p = parent
	}
}
