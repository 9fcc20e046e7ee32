package daemon

import (
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/verify"
	"github.com/rs/zerolog"
)

// VerifyConfig maps the verify section of the configuration to the verify
// package's Config (the CLI's offline runs use it too). Repairer is left
// for the caller: only a running seeder can repair.
func VerifyConfig(cfg *config.Config, log zerolog.Logger) verify.Config {
	v := cfg.Verify
	return verify.Config{
		Schedules: v.Schedules, Timezone: v.Timezone, MaxRun: v.MaxRun, Rate: int64(v.Rate),
		Interval: v.Interval, RangeBytes: int64(v.RangeBytes), Workers: v.Workers,
		MassFailureRatio: v.MassFailureRatio, ReportDir: v.ReportDir, WebhookURL: v.WebhookURL,
		NodeID: nodeID(cfg), Logger: log,
	}
}
