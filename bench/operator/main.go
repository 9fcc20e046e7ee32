// Command operator measures archivd the way an operator meets it: whole
// processes started from a shell (archivd serve, archivd verify --offline)
// against the peers doing the same work on the same data in the same run
// (libtorrent 2.0 through Debian's python3-libtorrent, openssl speed, cat).
// It prints each figure with the peer's figure and the ratio, medians over
// rounds. Run it through bench/operator/run.sh, which builds archivd and
// this program and starts them in a loopback-only network namespace.
//
// Usage: operator FIGURE...   (restart, adopt, create, verify, seed, scrubseed, devices, sigkill, many, pgidle, fleetscale, all)
//
// Sizes and rounds come from the environment (see config below).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// config is read from the environment once.
type config struct {
	dir      string // BENCH_DIR: work directory (deleted and made again)
	bin      string // ARCHIVD_BIN: the archivd binary
	ltdrive  string // LTDRIVE: interop/testdata/ltdrive.py
	rounds   int    // BENCH_ROUNDS
	torrents int    // BENCH_TORRENTS: torrents of 1 MiB for restart
	adoptMB  int64  // BENCH_ADOPT_MB: data adopted, verified, seeded and scrubbed
}

func envInt(name string, def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && n > 0 {
		return n
	}
	return def
}

func loadConfig() config {
	c := config{
		dir:      os.Getenv("BENCH_DIR"),
		bin:      os.Getenv("ARCHIVD_BIN"),
		ltdrive:  os.Getenv("LTDRIVE"),
		rounds:   int(envInt("BENCH_ROUNDS", 3)),
		torrents: int(envInt("BENCH_TORRENTS", 300)),
		adoptMB:  envInt("BENCH_ADOPT_MB", 1024),
	}
	if c.dir == "" {
		c.dir = "/tmp/archivd-operator-bench"
	}
	return c
}

// loopbackOnly refuses to run when any interface but lo is up: every peer
// and tracker of the benchmark must be unreachable from outside.
func loopbackOnly() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("interface %s is up: run in a loopback-only network namespace (bench/operator/run.sh)", i.Name)
		}
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run() error {
	c := loadConfig()
	if c.bin == "" || c.ltdrive == "" {
		return fmt.Errorf("ARCHIVD_BIN and LTDRIVE must be set (bench/operator/run.sh sets them)")
	}
	if err := loopbackOnly(); err != nil {
		return err
	}
	figs := os.Args[1:]
	if len(figs) == 0 || (len(figs) == 1 && figs[0] == "all") {
		figs = []string{"restart", "adopt", "verify", "seed", "scrubseed"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Hour)
	defer cancel()
	if err := os.RemoveAll(c.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	b := &bench{c: c, ctx: ctx}
	defer b.cleanup()
	if err := b.startPostgres(filepath.Join(c.dir, "pg")); err != nil {
		return err
	}
	b.machine()
	for _, f := range figs {
		fn, ok := figures[f]
		if !ok {
			return fmt.Errorf("unknown figure %q (restart, adopt, create, verify, seed, scrubseed, devices, sigkill, many, pgidle, fleetscale, all)", f)
		}
		if err := fn(b); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

var figures = map[string]func(*bench) error{
	"restart":    figRestart,
	"adopt":      figAdopt,
	"create":     figCreate,
	"verify":     figVerify,
	"seed":       figSeed,
	"scrubseed":  figScrubSeed,
	"devices":    figDevices,
	"sigkill":    figSigkill,
	"many":       figMany,
	"pgidle":     figPGIdle,
	"fleetscale": figFleetScale,
}
