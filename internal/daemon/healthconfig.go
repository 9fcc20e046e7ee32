package daemon

import (
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/verify"
	"github.com/rs/zerolog"
)

// HealthConfig maps the configuration to the health checks' Config; cli
// is how printed commands start ("archivd --config FILE").
func HealthConfig(cfg *config.Config, cli string) health.Config {
	low, full := cfg.Health.LowSpace, cfg.Health.FullSpace
	return health.Config{Verify: verify.ConfigFrom(cfg, zerolog.Nop()), DataDir: cfg.DataDir, CLI: cli,
		Fleet: FleetPolicy(cfg), LowSpace: &low, FullSpace: &full}
}
