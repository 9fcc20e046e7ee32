package daemon

import (
	"testing"

	"github.com/archivd/archivd/internal/health"
)

func TestHealthChangesAreLoggedOncePerChange(t *testing.T) {
	prev := map[string]health.Severity{}
	apply := func(rep health.Report) []healthChange {
		chs := healthChanges(prev, rep)
		for _, ch := range chs {
			prev[ch.Code] = ch.Check.Severity
		}
		return chs
	}
	unavail := health.Report{Status: health.Err, Checks: []health.Check{{Code: health.TorrentUnavailable, Severity: health.Err}}}
	if chs := apply(unavail); len(chs) != 1 || chs[0].Code != health.TorrentUnavailable || chs[0].Was != health.OK {
		t.Fatalf("raised: %+v", chs)
	}
	if chs := apply(unavail); len(chs) != 0 {
		t.Fatalf("same evaluation again logs nothing: %+v", chs)
	}
	warn := health.Report{Status: health.Warn, Checks: []health.Check{{Code: health.TorrentUnavailable, Severity: health.Warn}}}
	if chs := apply(warn); len(chs) != 1 || chs[0].Was != health.Err || chs[0].Check.Severity != health.Warn {
		t.Fatalf("severity change: %+v", chs)
	}
	if chs := apply(health.Report{}); len(chs) != 1 || !chs[0].Cleared || chs[0].Was != health.Warn {
		t.Fatalf("cleared: %+v", chs)
	}
	if chs := apply(health.Report{}); len(chs) != 0 {
		t.Fatalf("still clear logs nothing: %+v", chs)
	}
}
