package catalog

import "time"

// RunProgress is how far a verify run is, as 'verify status' and the
// status page show it.
type RunProgress struct {
	// Rate is bytes hashed per second over the time the run ran (up to its
	// pause while paused).
	Rate float64 `json:"rate_bytes_per_second"`
	// Left is the estimated seconds to finish at that rate, -1 unknown.
	Left float64 `json:"seconds_left"`
	// Percent is bytes hashed of bytes planned.
	Percent float64 `json:"percent_done"`
}

// Progress is the run's progress at now.
func (r VerifyRun) Progress(now time.Time) RunProgress {
	p := RunProgress{Left: -1}
	if r.BytesPlanned > 0 {
		p.Percent = 100 * float64(r.BytesHashed) / float64(r.BytesPlanned)
	}
	if r.PausedAt != nil {
		now = *r.PausedAt // the rate of the time it ran
	}
	if r.StartedAt != nil {
		if el := now.Sub(*r.StartedAt).Seconds(); el > 0 {
			p.Rate = float64(r.BytesHashed) / el
		}
	}
	if p.Rate > 0 && r.BytesPlanned >= r.BytesHashed {
		p.Left = float64(r.BytesPlanned-r.BytesHashed) / p.Rate
	}
	return p
}
