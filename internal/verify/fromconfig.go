package verify

import (
	"github.com/archivd/archivd/internal/config"
	"github.com/rs/zerolog"
)

// ConfigFrom maps the verify section of the configuration to Config (the
// daemon and the CLI's offline runs both use it). Repairer is left for the
// caller: only a running seeder can repair.
func ConfigFrom(cfg *config.Config, log zerolog.Logger) Config {
	v := cfg.Verify
	return Config{
		Schedules: v.Schedules, Timezone: v.Timezone, MaxRun: v.MaxRun, Rate: int64(v.Rate),
		Interval: v.Interval, RangeBytes: int64(v.RangeBytes), Workers: v.Workers,
		MassFailureRatio: v.MassFailureRatio, ReportDir: v.ReportDir, WebhookURL: v.WebhookURL,
		WebhookSecret: v.WebhookSecretFile,
		NodeID:        cfg.ResolvedNodeID(), Logger: log,
	}
}
