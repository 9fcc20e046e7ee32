package verify

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
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
		return postReport(ctx, rep, cfg.WebhookURL)
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

func postReport(ctx context.Context, rep *Report, url string) error {
	var b bytes.Buffer
	if err := rep.Render(&b, "json"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &b)
	if err != nil {
		return fmt.Errorf("verify: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("verify: post report of run %d to webhook: %w", rep.Run.ID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("verify: post report of run %d to webhook: %s", rep.Run.ID, resp.Status)
	}
	return nil
}
