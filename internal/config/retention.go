package config

import "time"

// RetentionConfig bounds the catalog tables that only grow: the daemon
// prunes them every Interval, in batches of Batch rows. An age or count
// of 0 keeps those rows for ever.
type RetentionConfig struct {
	Interval   time.Duration `key:"interval"`    // how often the daemon prunes
	Events     time.Duration `key:"events"`      // events older than this are deleted
	VerifyJobs time.Duration `key:"verify_jobs"` // jobs of runs finished longer ago are deleted
	// VerifyRuns finished runs are kept (the newest), plus every run an
	// unrepaired finding refers to; older ones are deleted.
	VerifyRuns int           `key:"verify_runs"`
	Findings   time.Duration `key:"findings"` // findings repaired longer ago are deleted
	Peers      time.Duration `key:"peers"`    // peers not seen for this long are forgotten
	Batch      int           `key:"batch"`    // rows per delete statement
}

// defaultRetention keeps three months of events and repaired findings,
// a month of job detail and peers, and the last 200 runs.
func defaultRetention() RetentionConfig {
	return RetentionConfig{Interval: time.Hour, Events: 90 * 24 * time.Hour, VerifyJobs: 30 * 24 * time.Hour,
		VerifyRuns: 200, Findings: 90 * 24 * time.Hour, Peers: 30 * 24 * time.Hour, Batch: 1000}
}

func (c *Config) validateRetention() error {
	r := c.Retention
	if r.Interval < time.Minute {
		return errorf("retention.interval: %v is under a minute", r.Interval)
	}
	for key, d := range map[string]time.Duration{"events": r.Events, "verify_jobs": r.VerifyJobs, "findings": r.Findings, "peers": r.Peers} {
		if d < 0 {
			return errorf("retention.%s: %v is negative (0 keeps for ever)", key, d)
		}
	}
	if r.VerifyRuns < 0 {
		return errorf("retention.verify_runs: %d is negative (0 keeps every run)", r.VerifyRuns)
	}
	if r.Batch < 1 || r.Batch > 100000 {
		return errorf("retention.batch: %d is not between 1 and 100000", r.Batch)
	}
	return nil
}
