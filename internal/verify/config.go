// Package verify schedules and runs scrubs of the catalog's torrents,
// records progress, findings and reports in the catalog, and asks the
// seeder to repair bad pieces from the swarm.
package verify

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/heartbeat"
	"github.com/archivd/archivd/internal/verify/clock"
	"github.com/archivd/archivd/internal/verify/scrub"
	"github.com/rs/zerolog"
)

// Clock is the time source (see package clock).
type Clock = clock.Clock

// Repairer is the seeder side of repair: MarkBad durably records the
// pieces not complete and makes the engine fetch them again. RepairSource
// names who delivered a handed-over piece ("peer 127.0.0.1:51413
// (Transmission 3.00)", "web seed http://...", several joined by ", "; ""
// = not recorded); it is asked once, when the piece reads back good.
//
// Recheck is told of pieces that read good although the catalog does not
// record them complete (put right by hand, or never recorded): if the
// torrent is in the engine, the engine hashes them again and records them
// complete through its store (handled = true); otherwise verification
// records them itself.
type Repairer interface {
	MarkBad(ctx context.Context, torrentID int64, pieces []int) error
	RepairSource(torrentID int64, piece int) string
	Recheck(ctx context.Context, torrentID int64, pieces []int) (handled bool, err error)
}

// Observer is told what verification did, for metrics. Calls are made
// from the service's goroutines and must not block.
type Observer interface {
	RunFinished(run catalog.VerifyRun, d time.Duration)
	// Hashed is told the bytes of each range read and recorded.
	Hashed(bytes int64)
	Repaired(pieces int)
}

// Config is the verify section of the daemon's config plus what the daemon
// passes in. Zero values take the documented defaults.
type Config struct {
	Schedules        []string      // cron, 5 fields; default ["0 1 * * *"]
	Timezone         string        // IANA name or "Local" (default) or "UTC"
	MaxRun           time.Duration // window length; 0 = until done
	Rate             int64         // read bytes/s; 0 = unlimited
	Interval         time.Duration // every piece verified this often; default 720h
	RangeBytes       int64         // progress granularity; default 1 GiB
	Workers          int           // hashing goroutines; 0 = CPUs
	MassFailureRatio float64       // > this share failing holds repair; default 0.2
	ReportDir        string        // "" = no report files
	WebhookURL       string        // "" = none
	WebhookSecret    string        // file with the HMAC key signing deliveries; "" = unsigned

	NodeID   string
	Logger   zerolog.Logger
	Clock    Clock    // nil = wall clock
	Repairer Repairer // nil = no repair
	// Observer hears of finished runs and repairs (metrics); nil = none.
	Observer Observer
	// Heartbeats gets a beat per loop (the daemon's watchdog); nil = none.
	Heartbeats *heartbeat.Monitor
	// Uploaded, if set, counts the seeder's bytes sent since start (cheap:
	// it is sampled while scrubbing); the service's scrubs slow down to
	// BusyRate while it grows faster than BusyUpload. nil = never.
	Uploaded func() int64
	// Changes wakes the service when a run is queued; nil = the service
	// runs its own notifier (the daemon shares one with the seeder).
	Changes *catalog.Notifier

	// Lease of a claimed job; extended every Lease/3 while working.
	Lease time.Duration // default 1m
	// RepairTimeout: a finding still bad this long after MarkBad stays open.
	RepairTimeout time.Duration // default 1h
	// RepairPoll: how often pieces being repaired are re-read.
	RepairPoll time.Duration // default 10s
	// Poll: how often queued runs are looked for (real time).
	Poll time.Duration // default 2s
	// ControlPoll: how often a scrub in progress looks for an operator's
	// pause or cancel (real time).
	ControlPoll time.Duration // default 1s
	// BlockSize of reads (0 = scrub default) and the file opener (nil =
	// the real, symlink-safe one): tests inject faults through it.
	BlockSize int64
	Open      scrub.OpenerFunc
	// NoMap makes the scrubber copy with pread(2) instead of hashing mapped
	// page cache. Mapping used ~12% less CPU in bench/scrub.sh (see
	// docs/BENCHMARKS.md); faults on mapped data become io_error findings.
	NoMap bool
	// deviceOf names the device of a data dir (nil = st_dev): tests make
	// directories of one file system look like several disks.
	deviceOf func(path string) (uint64, error)
}

func (c Config) withDefaults() Config {
	if len(c.Schedules) == 0 {
		c.Schedules = []string{"0 1 * * *"}
	}
	if c.Timezone == "" {
		c.Timezone = "Local"
	}
	if c.Interval == 0 {
		c.Interval = 720 * time.Hour
	}
	if c.RangeBytes == 0 {
		c.RangeBytes = 1 << 30
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.MassFailureRatio == 0 {
		c.MassFailureRatio = 0.2
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	c.Lease = defDur(c.Lease, time.Minute)
	c.RepairTimeout = defDur(c.RepairTimeout, time.Hour)
	c.RepairPoll = defDur(c.RepairPoll, 10*time.Second)
	c.Poll = defDur(c.Poll, 2*time.Second)
	c.ControlPoll = defDur(c.ControlPoll, time.Second)
	return c
}

func defDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (c Config) validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("verify: node id is empty")
	case c.MaxRun < 0:
		return fmt.Errorf("verify: max_run %s is negative", c.MaxRun)
	case c.Rate < 0:
		return fmt.Errorf("verify: rate %d is negative", c.Rate)
	case c.RangeBytes < 0:
		return fmt.Errorf("verify: range_bytes %d is negative", c.RangeBytes)
	case c.MassFailureRatio < 0 || c.MassFailureRatio > 1:
		return fmt.Errorf("verify: mass_failure_ratio %g is not between 0 and 1", c.MassFailureRatio)
	case c.Interval < 0:
		return fmt.Errorf("verify: interval %s is negative", c.Interval)
	}
	return nil
}
