package daemon

import (
	"path/filepath"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/verify"
	"github.com/rs/zerolog"
)

// HealthConfig maps the configuration to the health checks' Config; cli
// is how printed commands start ("archivd --config FILE"). The data dir
// checked is the one in use (state_dir/data when data_dir is unset),
// absolute so that the printed df works from anywhere.
func HealthConfig(cfg *config.Config, cli string) health.Config {
	dataDir := cfg.ResolvedDataDir()
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	low, full := cfg.Health.LowSpace, cfg.Health.FullSpace
	return health.Config{Verify: verify.ConfigFrom(cfg, zerolog.Nop()), DataDir: dataDir, CLI: cli,
		Fleet: FleetPolicy(cfg), LowSpace: &low, FullSpace: &full}
}
