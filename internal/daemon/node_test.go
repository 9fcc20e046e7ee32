package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/testutil"
)

// TestServeRegistersItsNode: a serving daemon's node row carries its name,
// BitTorrent address (the engine's listen address), zone, tags, version
// and its data roots with their filesystem's capacity; a reload's new zone
// shows at a later heartbeat; a clean stop leaves it down.
func TestServeRegistersItsNode(t *testing.T) {
	cfg := testConfig(stateDir(t))
	cfg.NodeID = "store-1"
	cfg.Node = config.NodeConfig{Name: "store one", Zone: "z1", Tags: []string{"ssd"}}
	root := t.TempDir()
	cfg.Collections = []config.CollectionConfig{{Name: "maps", DataRoot: filepath.Join(root, "not", "yet")}}
	next := *cfg
	next.Node.Zone = "z2"
	reload := func() (*config.Config, error) { return &next, nil }
	err := serve(t, Options{Config: cfg, Reload: reload, Version: "v-test"}, func(d *Daemon) {
		ctx := context.Background()
		var n catalog.Node
		testutil.Eventually(t, 30*time.Second, "the node's data roots", func() bool {
			var err error
			n, err = d.DB.Node(ctx, "store-1")
			return err == nil && len(n.Roots) == 2
		})
		if !n.Up || n.Name != "store one" || n.Zone != "z1" || !slices.Equal(n.Tags, []string{"ssd"}) ||
			n.Version != "v-test" || n.BTAddr != d.Seeder.ListenAddr() || n.Admin != catalog.NodeActive {
			t.Fatalf("registered node: %+v (listen %s)", n, d.Seeder.ListenAddr())
		}
		for _, r := range n.Roots {
			if r.Error != "" || r.CapacityBytes <= 0 || r.FreeBytes <= 0 || r.Device == "" {
				t.Fatalf("data root %+v", r)
			}
		}
		if n.Roots[0].Path != filepath.Join(root, "not", "yet") && n.Roots[1].Path != filepath.Join(root, "not", "yet") {
			t.Fatalf("collection data root missing: %+v", n.Roots)
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 3*catalog.NodeHeartbeat, "the reloaded zone in the node row", func() bool {
			n, err := d.DB.Node(ctx, "store-1")
			return err == nil && n.Zone == "z2"
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAdvertiseAddr(t *testing.T) {
	host, _ := os.Hostname()
	for _, tc := range []struct {
		advertise, announce, listen, want string
	}{
		{"", "", "127.0.0.2:6881", "127.0.0.2:6881"},
		{"", "", "[::1]:6881", "[::1]:6881"},
		{"", "203.0.113.7", "0.0.0.0:6881", "203.0.113.7:6881"},
		{"", "", "[::]:7000", host + ":7000"},
		{"seed.example:6000", "", "0.0.0.0:6881", "seed.example:6000"},
	} {
		c := config.Default()
		c.Node.AdvertiseAddress, c.Network.AnnounceIP = tc.advertise, tc.announce
		if got := advertiseAddr(&c, tc.listen); got != tc.want {
			t.Errorf("advertiseAddr(%+v) = %q, want %q", tc, got, tc.want)
		}
	}
}
