package daemon

import (
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/seeder"
)

// seederConfig maps the configuration to the seeder's: network.interface
// is resolved to its address, the blocklist file is read into
// d.blocklist (which a reload re-reads).
func (d *Daemon) seederConfig(cfg *config.Config) (seeder.Config, error) {
	n := cfg.Network
	sc := seeder.Config{
		ListenHost: n.ListenHost, ListenPort: n.ListenPort, DHT: n.DHT, PEX: n.PEX,
		PortForwarding: n.PortForwarding, Trackers: n.Trackers,
		UploadRate: int64(n.UploadRate), DownloadRate: int64(n.DownloadRate), RecoveryRate: int64(cfg.Fleet.RecoveryRate),
		RecoverySendRate:   int64(cfg.Fleet.RecoverySendRate),
		MaxConnsPerTorrent: n.MaxConnsPerTorrent, MaxHalfOpen: n.MaxHalfOpen, MaxConnsTotal: n.MaxConnsTotal,
		AnnounceIP: n.AnnounceIP, Encryption: n.Encryption,
		CommitInterval: cfg.Seeder.CommitInterval, MaxPendingPieces: cfg.Seeder.MaxPendingPieces,
		ReconcileInterval: cfg.Seeder.ReconcileInterval, MaxUnverifiedBytes: int64(cfg.Seeder.MaxUnverified),
		NodeID: cfg.ResolvedNodeID(), Logger: d.log,
	}
	if n.Interface != "" {
		addr, err := seeder.InterfaceAddr(n.Interface)
		if err != nil {
			return sc, err
		}
		sc.ListenHost = addr
		d.log.Info().Str("interface", n.Interface).Str("listen_host", addr).Msg("network: listening on the interface's address")
	}
	d.blocklist = &seeder.Blocklist{}
	if err := d.blocklist.Load(n.BlocklistFile); err != nil {
		return sc, err
	}
	sc.Blocklist = d.blocklist
	return sc, nil
}
