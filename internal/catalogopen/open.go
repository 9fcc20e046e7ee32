// Package catalogopen is the one way an archivd process opens its catalog:
// the PostgreSQL named by database.url, or the embedded cluster under
// state_dir/postgres, started (or reused) from the host's binaries. The CLI
// and the daemon both open it here, and here it is decided whether a
// command may create the embedded cluster: only commands that write the
// catalog's first state may (serve, migrate, add, collection create);
// read commands fail with ErrNoCatalog instead of running initdb.
package catalogopen

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/rs/zerolog"
)

// ErrNoCatalog: the state directory holds no embedded cluster and the
// command may not create one.
var ErrNoCatalog = errors.New("no catalog")

// Options says what to open and whether the embedded cluster may be created.
type Options struct {
	Config *config.Config
	Logger zerolog.Logger
	// Create lets Open initialise the embedded cluster when the state
	// directory holds none.
	Create bool
	// Command names the command in the ErrNoCatalog message.
	Command string
}

// Catalog is an open catalog and, with the embedded default, the cluster
// this process uses.
type Catalog struct {
	DB *catalog.DB
	// Embedded is the embedded cluster; nil with database.url.
	Embedded *pgserver.Server
	log      zerolog.Logger
}

// Open connects to the configured catalog. It does not migrate or check
// the schema: that is the caller's policy.
func Open(ctx context.Context, o Options) (*Catalog, error) {
	url, err := o.Config.DatabaseURL()
	if err != nil {
		return nil, err
	}
	session, err := o.Config.SessionURL()
	if err != nil {
		return nil, err
	}
	c := &Catalog{log: o.Logger}
	if url == "" {
		if c.Embedded, err = startEmbedded(ctx, o); err != nil {
			return nil, err
		}
		url = c.Embedded.URL("archivd")
	}
	co := catalog.Options{URL: url, SessionURL: session, PoolMode: catalog.PoolMode(o.Config.Database.PoolMode)}
	if !o.Config.Database.Listen {
		co.Poll = o.Config.Database.PollInterval
	}
	if c.DB, err = catalog.OpenWith(ctx, co); err != nil {
		c.stopEmbedded()
		return nil, err
	}
	c.DB.BindNode(o.Config.ResolvedNodeID())
	return c, nil
}

func startEmbedded(ctx context.Context, o Options) (*pgserver.Server, error) {
	dir := filepath.Join(o.Config.StateDir, "postgres")
	s, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, BinDir: o.Config.Database.EmbeddedBinDir, NoInit: !o.Create})
	if errors.Is(err, pgserver.ErrNoCluster) {
		abs, _ := filepath.Abs(o.Config.StateDir)
		return nil, fmt.Errorf("%w: state directory %s holds no embedded catalog (%s/postgres/data); %s does not create one: "+
			"`archivd serve`, `archivd migrate` or `archivd collection create` does, or set state_dir or database.url to the catalog in use",
			ErrNoCatalog, abs, abs, command(o.Command))
	}
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	o.Logger.Debug().Str("dir", s.Dir()).Bool("reused", !s.Started).Msg("embedded postgres running")
	if err := s.EnsureDatabase(ctx, "archivd"); err != nil {
		closeServer(s, o.Logger)
		return nil, err
	}
	return s, nil
}

func command(name string) string {
	if name == "" {
		return "this command"
	}
	return "`archivd " + name + "`"
}

// Close closes the pool, then ends this process's use of the embedded
// cluster: the last archivd process using it stops it.
func (c *Catalog) Close() {
	c.DB.Close()
	c.stopEmbedded()
}

func (c *Catalog) stopEmbedded() {
	if c.Embedded != nil {
		closeServer(c.Embedded, c.log)
	}
}

func closeServer(s *pgserver.Server, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		log.Error().Err(err).Msg("stop embedded postgres")
	}
}
