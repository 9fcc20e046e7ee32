package verify

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// Report is one run with its findings, as stored in the catalog.
type Report struct {
	Run             catalog.VerifyRun `json:"run"`
	Scope           Scope             `json:"scope"`
	DurationSeconds float64           `json:"duration_seconds"`
	// Throughput is bytes hashed per second of run time.
	Throughput float64   `json:"throughput_bytes_per_second"`
	Findings   []Finding `json:"findings"`
}

// Finding is a finding with its torrent's name and infohash.
type Finding struct {
	catalog.VerifyFinding
	Torrent  string `json:"torrent"`
	InfoHash string `json:"infohash"`
}

// LoadReport reads run runID (0 = the latest) and its findings.
func LoadReport(ctx context.Context, db *catalog.DB, runID int64) (*Report, error) {
	run, err := db.VerifyRunByID(ctx, runID)
	if err != nil {
		return nil, err
	}
	scope, err := parseScope(run.Scope)
	if err != nil {
		return nil, err
	}
	rep := &Report{Run: run, Scope: scope, Findings: []Finding{}}
	if run.StartedAt != nil {
		end := time.Now()
		if run.FinishedAt != nil {
			end = *run.FinishedAt
		}
		rep.DurationSeconds = end.Sub(*run.StartedAt).Seconds()
		if rep.DurationSeconds > 0 {
			rep.Throughput = float64(run.BytesHashed) / rep.DurationSeconds
		}
	}
	found, err := db.VerifyFindings(ctx, catalog.VerifyFindingFilter{RunID: run.ID})
	if err != nil {
		return nil, err
	}
	names := map[int64]catalog.Torrent{}
	for _, f := range found {
		t, ok := names[f.TorrentID]
		if !ok {
			if t, err = db.TorrentByID(ctx, f.TorrentID); err != nil {
				return nil, err
			}
			names[f.TorrentID] = t
		}
		rep.Findings = append(rep.Findings, Finding{VerifyFinding: f, Torrent: t.Name, InfoHash: t.HexHash()})
	}
	return rep, nil
}
