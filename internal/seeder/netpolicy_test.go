package seeder

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/mse"
)

func TestBlocklistLoadsAndReloadsRanges(t *testing.T) {
	p := filepath.Join(t.TempDir(), "block.txt")
	if err := os.WriteFile(p, []byte("# comment\nlab:127.0.0.2-127.0.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b Blocklist
	if _, ok := b.Lookup(net.ParseIP("127.0.0.3")); ok || b.NumRanges() != 0 {
		t.Fatal("empty blocklist blocks")
	}
	if err := b.Load(p); err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{"127.0.0.1": false, "127.0.0.2": true, "127.0.0.9": true, "127.0.0.10": false} {
		if _, ok := b.Lookup(net.ParseIP(ip)); ok != want {
			t.Errorf("%s blocked = %v, want %v", ip, ok, want)
		}
	}
	if err := os.WriteFile(p, []byte("lab:127.0.0.2-127.0.0.9\nbroken line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(p); err == nil {
		t.Error("a malformed blocklist was accepted")
	}
	if _, ok := b.Lookup(net.ParseIP("127.0.0.2")); !ok {
		t.Error("a failed reload dropped the old ranges")
	}
	if err := b.Load(""); err != nil || b.NumRanges() != 0 {
		t.Errorf("emptying: %v %d", err, b.NumRanges())
	}
}

func TestNetPolicyReachesTheEngineConfig(t *testing.T) {
	cc := torrent.NewDefaultClientConfig()
	b := &Blocklist{}
	if err := applyNetPolicy(cc, Config{AnnounceIP: "198.51.100.7", Encryption: EncryptionRequire, Blocklist: b}); err != nil {
		t.Fatal(err)
	}
	if !cc.PublicIp4.Equal(net.ParseIP("198.51.100.7")) || cc.IPBlocklist != b ||
		!cc.HeaderObfuscationPolicy.RequirePreferred || !cc.HeaderObfuscationPolicy.Preferred || cc.CryptoProvides != mse.CryptoMethodRC4 {
		t.Errorf("engine config: ip4 %v blocklist %v policy %+v crypto %v", cc.PublicIp4, cc.IPBlocklist, cc.HeaderObfuscationPolicy, cc.CryptoProvides)
	}
	def := torrent.NewDefaultClientConfig()
	if err := applyNetPolicy(def, Config{}); err != nil || def.PublicIp4 != nil || def.IPBlocklist != nil ||
		def.HeaderObfuscationPolicy.RequirePreferred {
		t.Errorf("defaults changed the engine: %v %+v", err, def.HeaderObfuscationPolicy)
	}
	if err := applyNetPolicy(def, Config{Encryption: "always"}); err == nil {
		t.Error("unknown encryption policy accepted")
	}
}

func TestInterfaceAddrAndConnShares(t *testing.T) {
	if a, err := InterfaceAddr("lo"); err != nil || a != "127.0.0.1" {
		t.Errorf("lo: %q %v", a, err)
	}
	if _, err := InterfaceAddr("nosuch0"); err == nil {
		t.Error("missing interface accepted")
	}
	for _, c := range []struct{ per, total, n, want int }{
		{50, 0, 10, 50}, {50, 100, 10, 10}, {50, 100, 1, 50}, {50, 100, 1000, 2}, {0, 100, 4, 25},
	} {
		if got := connsPerTorrent(c.per, c.total, c.n); got != c.want {
			t.Errorf("connsPerTorrent(%d, %d, %d) = %d, want %d", c.per, c.total, c.n, got, c.want)
		}
	}
}
