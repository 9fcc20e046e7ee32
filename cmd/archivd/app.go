package main

import (
	"context"
	"fmt"
	"io"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/catalogopen"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/logging"
	"github.com/rs/zerolog"
)

// app is what every command needs: where to write, the environment, and
// the configuration loaded once by the root command before a command runs.
// Tests build one directly (see newTestApp) and call run functions.
type app struct {
	stdout, stderr io.Writer
	env            []string
	// stderrTTY turns progress bars on.
	stderrTTY bool
	// configFile is --config (default $ARCHIVD_CONFIG).
	configFile string
	cfg        *config.Config
	log        zerolog.Logger
	// logLevel changes log's level at run time (serve's reload).
	logLevel *logging.Level
}

// createsCatalog are the commands that may initialise the embedded
// cluster; every other command needs an existing catalog.
var createsCatalog = map[string]bool{"add": true, "collection create": true, "migrate": true}

// openCatalog connects to the catalog named by the configuration (see
// catalogopen). Unless checkSchema is false (migrate), an outdated schema
// is refused. close releases both.
func (a *app) openCatalog(ctx context.Context, what string, checkSchema bool) (db *catalog.DB, closeFn func(), err error) {
	c, err := catalogopen.Open(ctx, catalogopen.Options{Config: a.cfg, Logger: a.log, Create: createsCatalog[what], Command: what})
	if err != nil {
		return nil, nil, err
	}
	db, closeFn = c.DB, c.Close
	if checkSchema && a.cfg.Database.AutoMigrate {
		// database.auto_migrate holds for every command, not only serve.
		if _, err := db.Migrate(ctx); err != nil {
			closeFn()
			return nil, nil, err
		}
	}
	if checkSchema {
		if err := db.CheckSchema(ctx); err != nil {
			closeFn()
			return nil, nil, withCode(exitSchema, err)
		}
	}
	return db, closeFn, nil
}

// withCatalog runs fn with an open, schema-checked catalog; what names the
// command in the error when the catalog cannot be opened.
func (a *app) withCatalog(ctx context.Context, what string, fn func(db *catalog.DB) error) error {
	db, closeFn, err := a.openCatalog(ctx, what, true)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer closeFn()
	return fn(db)
}

func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stdout, format, args...)
}
