package daemon

import (
	"testing"
	"time"

	"github.com/archivd/archivd/internal/config"
)

// Office hours 08:00-18:00 on weekdays at other speeds: the state and the
// time of the next change at the edges of a window.
func TestSpeedAtFollowsAltSpeedWindows(t *testing.T) {
	n := config.Default().Network
	n.UploadRate, n.DownloadRate = 10<<20, 20<<20
	n.AltSpeedSchedules, n.AltSpeedDuration, n.AltSpeedTimezone = []string{"0 8 * * 1-5"}, 10*time.Hour, "UTC"
	n.AltUploadRate, n.AltDownloadRate = 1<<20, 0
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		now    string // 2026-12-02 is a Wednesday
		alt    bool
		up     int64
		change string
	}{
		{"2026-12-02T07:59:59Z", false, 10 << 20, "2026-12-02T08:00:00Z"},
		{"2026-12-02T08:00:00Z", true, 1 << 20, "2026-12-02T18:00:00Z"},
		{"2026-12-02T17:59:59Z", true, 1 << 20, "2026-12-02T18:00:00Z"},
		{"2026-12-02T18:00:00Z", false, 10 << 20, "2026-12-03T08:00:00Z"},
		{"2026-12-04T20:00:00Z", false, 10 << 20, "2026-12-07T08:00:00Z"}, // Friday evening: Monday
	}
	for _, c := range cases {
		st := speedAt(n, at(c.now))
		if st.alt != c.alt || st.limits.UploadRate != c.up || !st.change.Equal(at(c.change)) {
			t.Errorf("%s: alt %v up %d change %s; want %v %d %s", c.now, st.alt, st.limits.UploadRate, st.change, c.alt, c.up, c.change)
		}
		if c.alt && st.limits.DownloadRate != 0 || !c.alt && st.limits.DownloadRate != 20<<20 {
			t.Errorf("%s: download %d", c.now, st.limits.DownloadRate)
		}
	}
	n.AltSpeedSchedules = nil
	if st := speedAt(n, at(cases[1].now)); st.alt || !st.change.IsZero() {
		t.Errorf("no schedules: %+v", st)
	}
}
