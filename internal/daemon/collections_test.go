package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/torrentfile"
)

// torrentIn creates a small dataset under root/name and writes its
// .torrent into dir.
func torrentIn(t *testing.T, root, dir, name string) *torrentfile.Torrent {
	t.Helper()
	data := filepath.Join(root, "src", name)
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "f.bin"), []byte(name+" payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, err := torrentfile.Create(context.Background(), torrentfile.CreateOptions{Path: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".torrent"), tf.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return tf
}

func TestConfigCollectionsAreReconciledAtStartAndOnSIGHUP(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(stateDir(t))
	mapsDir := filepath.Join(root, "torrents", "maps")
	torrentIn(t, root, mapsDir, "tiles")
	cfg.Collections = []config.CollectionConfig{{Name: "maps", Description: "Map tiles", TorrentDir: mapsDir,
		DataRoot: filepath.Join(root, "data", "maps")}}

	next := *cfg
	booksDir := filepath.Join(root, "torrents", "books")
	books := torrentIn(t, root, booksDir, "novels")
	next.Collections = append([]config.CollectionConfig{}, cfg.Collections...)
	next.Collections = append(next.Collections, config.CollectionConfig{Name: "books", TorrentDir: booksDir})
	reload := func() (*config.Config, error) { return &next, nil }

	err := serve(t, Options{Config: cfg, Reload: reload}, func(d *Daemon) {
		ctx := context.Background()
		if _, err := d.DB.CreateCollection(ctx, catalog.Collection{Name: "by-hand"}); err != nil {
			t.Fatal(err)
		}
		c, err := d.DB.Collection(ctx, "maps")
		if err != nil || c.Source != "config" || c.Description != "Map tiles" || c.Torrents != 1 {
			t.Fatalf("maps at start: %+v, %v", c, err)
		}
		ts, _ := d.DB.Torrents(ctx, catalog.TorrentFilter{Collection: "maps"})
		if len(ts) != 1 || ts[0].DataDir != filepath.Join(root, "data", "maps", "tiles") || ts[0].Source != "config" {
			t.Fatalf("imported torrent: %+v", ts)
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 20*time.Second, "books imported after SIGHUP", func() bool {
			tor, err := d.DB.TorrentByRef(ctx, books.Name)
			return err == nil && tor.Collection == "books"
		})
		if c, err := d.DB.Collection(ctx, "by-hand"); err != nil || c.Source != "cli" {
			t.Errorf("CLI collection touched by the config: %+v, %v", c, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPruneRemovesOnlyUndeclaredConfigCollections(t *testing.T) {
	sd := notifySocket(t)
	root := t.TempDir()
	cfg := testConfig(stateDir(t))
	dir := filepath.Join(root, "torrents")
	torrentIn(t, root, dir, "old")
	cfg.Collections = []config.CollectionConfig{{Name: "gone", TorrentDir: dir}}
	next := *cfg
	next.Collections = nil
	next.PruneCollections = true
	kept := next
	kept.PruneCollections = false
	step := 0
	reload := func() (*config.Config, error) {
		step++
		if step == 1 {
			return &kept, nil
		}
		return &next, nil
	}
	err := serve(t, Options{Config: cfg, Reload: reload}, func(d *Daemon) {
		ctx := context.Background()
		if _, err := d.DB.CreateCollection(ctx, catalog.Collection{Name: "by-hand"}); err != nil {
			t.Fatal(err)
		}
		hup := func() {
			t.Helper()
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}
		hup() // undeclared but prune_collections false: kept
		sd.wait(t, "RELOADING=1")
		sd.wait(t, "READY=1") // the reload is done, collections included
		if d.Config() != &kept {
			t.Fatal("the first reload did not apply its configuration")
		}
		if _, err := d.DB.Collection(ctx, "gone"); err != nil {
			t.Fatalf("collection removed without prune_collections: %v", err)
		}
		hup()
		testutil.Eventually(t, 20*time.Second, "collection pruned", func() bool {
			_, err := d.DB.Collection(ctx, "gone")
			return err != nil
		})
		if _, err := d.DB.Collection(ctx, "by-hand"); err != nil {
			t.Errorf("prune removed a CLI collection: %v", err)
		}
		if _, err := os.Stat(filepath.Join(root, "src", "old", "f.bin")); err != nil {
			t.Errorf("prune touched data: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sdNotify receives what the daemon tells systemd (NOTIFY_SOCKET).
type sdNotify struct{ msgs chan string }

// notifySocket points NOTIFY_SOCKET at a socket of the test's (so the
// test must not run in parallel).
func notifySocket(t *testing.T) *sdNotify {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	n := &sdNotify{msgs: make(chan string, 64)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			select {
			case n.msgs <- string(buf[:k]):
			default: // nobody waits for it
			}
		}
	}()
	return n
}

// wait waits for a message holding state, dropping those before it.
func (n *sdNotify) wait(t *testing.T, state string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m := <-n.msgs:
			if strings.Contains(m, state) {
				return
			}
		case <-timeout:
			t.Fatalf("the daemon did not notify %s within 30 s", state)
		}
	}
}
