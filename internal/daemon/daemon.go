// Package daemon wires archivd serve together: the catalog (external or the
// embedded private cluster), the seeder, verification and the HTTP server,
// with systemd notification, SIGHUP reload and a clean stop. Every part it
// starts is owned here and stopped before Run returns.
package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/logging"
	"github.com/rs/zerolog"
)

// ErrSchema wraps a refused outdated schema (its own exit code in the CLI).
var ErrSchema = errors.New("schema not current")

// Options is what serve passes in.
type Options struct {
	Config  *config.Config
	Logger  zerolog.Logger
	Version string
	// LogLevel is the logger's live level, set again on reload; nil = kept.
	LogLevel *logging.Level
	// Reload returns a freshly loaded configuration (SIGHUP); nil = no reload.
	Reload func() (*config.Config, error)
	// CLI is how the commands printed by health checks start, e.g.
	// "archivd --config /etc/archivd/archivd.yaml"; "" = "archivd".
	CLI string
	// Ready, when set, is called once everything is started (tests).
	Ready func(*Daemon)
}

// prepareSchema migrates when allowed, else refuses an outdated schema.
func prepareSchema(ctx context.Context, db *catalog.DB, cfg *config.Config, log zerolog.Logger) error {
	if cfg.Database.AutoMigrate {
		st, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		log.Info().Int32("schema_version", st.Current).Int64("up_ms", logging.UpMs()).Msg("catalog schema migrated")
		return nil
	}
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return nil
}
