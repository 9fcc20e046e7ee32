package main

// The CLI side of the embedded default; serve uses internal/daemon, which
// stops the cluster on exit.

import (
	"context"
	"path/filepath"
	"time"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/pgserver"
)

// embeddedURL starts (or reuses) the private cluster under
// state_dir/postgres and returns the URL of its archivd database. stop
// ends this command's use; the cluster is stopped when no other archivd
// process (the daemon) uses it.
func embeddedURL(ctx context.Context, cfg *config.Config) (string, func(), error) {
	s, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(cfg.StateDir, "postgres"), BinDir: cfg.Database.EmbeddedBinDir})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.Close(sctx) // stops the cluster unless a daemon (or another command) uses it
	}
	if err := s.EnsureDatabase(ctx, "archivd"); err != nil {
		stop()
		return "", nil, err
	}
	return s.URL("archivd"), stop, nil
}
