package seeder

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/iplist"
	"github.com/anacrolix/torrent/mse"
)

// Encryption policies (network.encryption).
const (
	EncryptionPrefer    = "prefer"    // offer obfuscation, accept plaintext too (engine default)
	EncryptionRequire   = "require"   // obfuscated, RC4-encrypted connections only
	EncryptionPlaintext = "plaintext" // no obfuscation
)

// applyEncryption sets the engine's header obfuscation and crypto.
func applyEncryption(cc *torrent.ClientConfig, policy string) error {
	switch policy {
	case "", EncryptionPrefer:
	case EncryptionRequire:
		cc.HeaderObfuscationPolicy = torrent.HeaderObfuscationPolicy{Preferred: true, RequirePreferred: true}
		cc.CryptoProvides = mse.CryptoMethodRC4
	case EncryptionPlaintext:
		cc.HeaderObfuscationPolicy = torrent.HeaderObfuscationPolicy{Preferred: false, RequirePreferred: true}
	default:
		return fmt.Errorf("seeder: encryption %q is not prefer, require or plaintext", policy)
	}
	return nil
}

// applyNetPolicy: announce IP, encryption and blocklist.
func applyNetPolicy(cc *torrent.ClientConfig, cfg Config) error {
	if ip := net.ParseIP(cfg.AnnounceIP); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			cc.PublicIp4 = ip4
		} else {
			cc.PublicIp6 = ip
		}
	}
	if cfg.Blocklist != nil {
		cc.IPBlocklist = cfg.Blocklist
	}
	return applyEncryption(cc, cfg.Encryption)
}

// Blocklist is an IP blocklist the engine consults on every connection;
// Load replaces its ranges while the engine runs.
type Blocklist struct{ p atomic.Pointer[iplist.IPList] }

// Lookup implements iplist.Ranger.
func (b *Blocklist) Lookup(ip net.IP) (iplist.Range, bool) {
	if l := b.p.Load(); l != nil {
		return l.Lookup(ip)
	}
	return iplist.Range{}, false
}

// NumRanges implements iplist.Ranger.
func (b *Blocklist) NumRanges() int {
	if l := b.p.Load(); l != nil {
		return l.NumRanges()
	}
	return 0
}

// Load reads path (PeerGuardian text: "description:first-last" per line)
// and uses it from now on; "" empties the list. On error the old ranges stay.
func (b *Blocklist) Load(path string) error {
	if path == "" {
		b.p.Store(nil)
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("seeder: blocklist: %w", err)
	}
	defer f.Close()
	l, err := iplist.NewFromReader(f)
	if err != nil {
		return fmt.Errorf("seeder: blocklist %s: %w", path, err)
	}
	b.p.Store(l)
	return nil
}

// InterfaceAddr is the first IPv4 address (else IPv6) of the network
// interface name, for network.interface.
func InterfaceAddr(name string) (string, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return "", fmt.Errorf("network.interface %q: %w", name, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return "", fmt.Errorf("network.interface %q: %w", name, err)
	}
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
		if v6 == "" {
			v6 = ipn.IP.String()
		}
	}
	if v6 == "" {
		return "", fmt.Errorf("network.interface %q has no usable address", name)
	}
	return v6, nil
}

// connsPerTorrent spreads a total cap over n torrents (at least 2 each),
// never above the per-torrent limit; total 0 = no cap.
func connsPerTorrent(perTorrent, total, n int) int {
	if total <= 0 || n <= 0 {
		return perTorrent
	}
	share := max(total/n, 2)
	if perTorrent > 0 {
		share = min(share, perTorrent)
	}
	return share
}
