package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/rs/zerolog"
)

// stateDir is a short directory the postgres user can traverse (we may be root).
func stateDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "archivd-daemon-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stop a cluster a failed test may have left running.
		if s, err := pgserver.Start(context.Background(), pgserver.Options{Dir: filepath.Join(d, "postgres")}); err == nil {
			_ = s.Stop(context.Background())
		}
		os.RemoveAll(d)
	})
	return d
}

func testConfig(dir string) *config.Config {
	c := config.Default()
	c.StateDir = dir
	c.Network.ListenHost = "127.0.0.1"
	c.Network.ListenPort = 0
	c.HTTP.Listen = "127.0.0.1:0"
	c.Database.AutoMigrate = true
	return &c
}

// serve runs the daemon until fn returns, then stops it and returns Run's error.
func serve(t *testing.T, o Options, fn func(*Daemon)) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *Daemon, 1)
	o.Ready = func(d *Daemon) { ready <- d }
	if o.Logger.GetLevel() == zerolog.TraceLevel {
		o.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	select {
	case d := <-ready:
		fn(d)
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal("daemon not ready after 2 minutes")
	}
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("daemon did not stop within a minute")
	}
	return nil
}

func TestEmbeddedDefaultKeepsTheCatalogAcrossRestarts(t *testing.T) {
	dir := stateDir(t)
	cfg := testConfig(dir)
	err := serve(t, Options{Config: cfg}, func(d *Daemon) {
		if _, err := d.DB.CreateCollection(context.Background(), catalog.Collection{Name: "kept"}); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	// serve stops the cluster it ran: nothing may be left running.
	if _, err := os.Stat(filepath.Join(dir, "postgres", "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("embedded postgres still running after a clean stop (postmaster.pid: %v)", err)
	}
	err = serve(t, Options{Config: cfg}, func(d *Daemon) {
		if _, err := d.DB.Collection(context.Background(), "kept"); err != nil {
			t.Errorf("collection from the first run: %v", err)
		}
		// The seeder records its node's start in the catalog.
		testutil.Eventually(t, 30*time.Second, "the seeder recording its start", func() bool {
			_, err := d.DB.NodeCleanStop(context.Background(), cfg.ResolvedNodeID())
			return err == nil
		})
	})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
}

func TestServeRefusesOutdatedSchemaUnlessAutoMigrate(t *testing.T) {
	cfg := testConfig(stateDir(t))
	cfg.Database.AutoMigrate = false
	err := serve(t, Options{Config: cfg}, func(*Daemon) { t.Error("daemon started on an unmigrated catalog") })
	if err == nil || !strings.Contains(err.Error(), "archivd migrate") {
		t.Fatalf("got %v, want a refusal naming 'archivd migrate'", err)
	}
}

func TestSIGHUPWithBrokenConfigKeepsTheRunningOne(t *testing.T) {
	cfg := testConfig(stateDir(t))
	calls := make(chan error, 2)
	bad := func() (*config.Config, error) {
		_, err := config.Load(writeFile(t, "network:\n  listen_port: 99999\n"), nil, nil)
		calls <- err
		return nil, err
	}
	err := serve(t, Options{Config: cfg, Reload: bad}, func(d *Daemon) {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-calls:
			if err == nil || !strings.Contains(err.Error(), "network.listen_port") {
				t.Errorf("reload error = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("SIGHUP did not reload")
		}
		if d.Config() != cfg {
			t.Error("a rejected configuration replaced the running one")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "archivd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecondServeOnTheSameStateDirFailsNamingTheHolder(t *testing.T) {
	cfg := testConfig(stateDir(t))
	err := serve(t, Options{Config: cfg}, func(d *Daemon) {
		second := *cfg
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := Run(ctx, Options{Config: &second, Logger: zerolog.Nop()})
		want := "another archivd serve (pid " + strconv.Itoa(os.Getpid()) + ") runs on state directory " + cfg.StateDir
		if err == nil || !strings.Contains(err.Error(), want) || ctx.Err() != nil {
			t.Errorf("second serve: %v (context: %v), want at once an error containing %q", err, ctx.Err(), want)
		}
		if _, err := d.DB.Collections(context.Background()); err != nil {
			t.Errorf("first daemon's catalog after the refused second serve: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedPostmasterKilledIsRestarted(t *testing.T) {
	dir := stateDir(t)
	cfg := testConfig(dir)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	err := serve(t, Options{Config: cfg, Logger: log}, func(d *Daemon) {
		raw, err := os.ReadFile(filepath.Join(dir, "postgres", "data", "postmaster.pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		pidFile := filepath.Join(dir, "postgres", "data", "postmaster.pid")
		// 90 s: crash recovery on a busy machine.
		testutil.Eventually(t, 90*time.Second, "the catalog back after its postmaster was killed", func() bool {
			return catalogBack(d, pidFile, pid)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// catalogBack: a new postmaster runs and the daemon's pool works.
func catalogBack(d *Daemon, pidFile string, oldPID int) bool {
	raw, err := os.ReadFile(pidFile)
	if err != nil || strings.SplitN(string(raw), "\n", 2)[0] == strconv.Itoa(oldPID) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = d.DB.CreateCollection(ctx, catalog.Collection{Name: "after-restart"})
	return err == nil || errors.Is(err, catalog.ErrExists) // a timed-out try may have committed
}
