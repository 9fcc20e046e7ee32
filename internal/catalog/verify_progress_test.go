package catalog

import (
	"testing"
	"time"
)

func TestRunProgress(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { v := start.Add(time.Duration(s) * time.Second); return &v }
	now := *at(100)
	for _, c := range []struct {
		name string
		run  VerifyRun
		want RunProgress
	}{
		{"queued", VerifyRun{BytesPlanned: 1000}, RunProgress{Left: -1}},
		{"nothing hashed yet", VerifyRun{StartedAt: at(0), BytesPlanned: 1000}, RunProgress{Left: -1}},
		{"done", VerifyRun{StartedAt: at(0), BytesPlanned: 1000, BytesHashed: 1000}, RunProgress{Rate: 10, Left: 0, Percent: 100}},
		{"running", VerifyRun{StartedAt: at(0), BytesPlanned: 1000, BytesHashed: 500}, RunProgress{Rate: 5, Left: 100, Percent: 50}},
		{"paused: the rate of the time it ran", VerifyRun{StartedAt: at(0), PausedAt: at(50), BytesPlanned: 1000, BytesHashed: 500},
			RunProgress{Rate: 10, Left: 50, Percent: 50}},
		{"more hashed than planned", VerifyRun{StartedAt: at(0), BytesPlanned: 100, BytesHashed: 200}, RunProgress{Rate: 2, Left: -1, Percent: 200}},
		{"started in the future", VerifyRun{StartedAt: at(200), BytesPlanned: 100, BytesHashed: 10}, RunProgress{Left: -1, Percent: 10}},
	} {
		if got := c.run.Progress(now); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}
