package verify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archivd/archivd/internal/webhook"
)

// publish writes a finished run's report files into ReportDir and POSTs
// the JSON report to WebhookURL when the run has findings.
func (s *Service) publish(ctx context.Context, runID int64) error {
	cfg := s.e.cfg
	if cfg.ReportDir == "" && cfg.WebhookURL == "" {
		return nil
	}
	rep, err := LoadReport(ctx, s.e.db, runID)
	if err != nil {
		return err
	}
	if cfg.ReportDir != "" {
		for _, f := range []string{"json", "html"} {
			if err := writeReport(rep, cfg.ReportDir, f); err != nil {
				return err
			}
		}
	}
	if cfg.WebhookURL != "" && len(rep.Findings) > 0 {
		return s.postReport(ctx, rep)
	}
	return nil
}

// writeReport writes run-<id>.<format> atomically (temp file + rename).
func writeReport(rep *Report, dir, format string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("verify: report dir: %w", err)
	}
	var b bytes.Buffer
	if err := rep.Render(&b, format); err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("run-%d.%s", rep.Run.ID, format))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("verify: write report %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("verify: write report %s: %w", path, err)
	}
	return nil
}

// postReport delivers the JSON report as event verify.run (signed,
// retried: package webhook).
func (s *Service) postReport(ctx context.Context, rep *Report) error {
	var b bytes.Buffer
	if err := rep.Render(&b, "json"); err != nil {
		return err
	}
	cfg := s.e.cfg
	snd := webhook.Sender{URL: cfg.WebhookURL, SecretFile: cfg.WebhookSecret, Log: s.e.log}
	if err := snd.Post(ctx, "verify.run", b.Bytes()); err != nil {
		return fmt.Errorf("verify: post report of run %d: %w", rep.Run.ID, err)
	}
	return nil
}
