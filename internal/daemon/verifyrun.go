package daemon

import (
	"context"
	"fmt"

	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/verify"
)

// newVerify builds the verify service for cfg.
func (d *Daemon) newVerify(cfg *config.Config) (*verify.Service, error) {
	vcfg := verify.ConfigFrom(cfg, d.log)
	vcfg.Repairer = d.Seeder
	vcfg.Uploaded = d.Seeder.UploadedTotal
	vcfg.Observer = d.observer
	vcfg.Heartbeats = d.beats
	vcfg.Changes = d.changes
	return verify.NewService(vcfg, d.DB)
}

// restartVerify builds a service with cfg's verify settings and hands it
// to runVerify, which stops the running one first. A run in progress
// continues in the new service from its last recorded range.
func (d *Daemon) restartVerify(ctx context.Context, cfg *config.Config) error {
	svc, err := d.newVerify(cfg)
	if err != nil {
		return err
	}
	select {
	case d.verifyNext <- svc:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runVerify runs the verify service until ctx ends, replacing it by each
// one restartVerify hands over. It owns the running service's goroutine.
func (d *Daemon) runVerify(ctx context.Context) error {
	svc := d.Verify
	for {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- svc.Run(sctx) }()
		select {
		case err := <-done:
			cancel()
			return err
		case next := <-d.verifyNext:
			cancel()
			if err := <-done; err != nil {
				return fmt.Errorf("verify: stop for reload: %w", err)
			}
			svc = next
			d.log.Info().Msg("verify: restarted with the reloaded settings")
		}
	}
}
