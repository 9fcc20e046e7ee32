package backoff

import (
	"time"

	"github.com/rs/zerolog"
)

// Retry is one background loop's view of a fault it retries (the catalog
// away, a restart failing): it backs off and logs once when the fault
// starts and once when it ends, with the outage's duration, not once per
// attempt. The zero value with Log and What set is ready; one per loop.
type Retry struct {
	Backoff
	Log zerolog.Logger
	// What names the work that fails, e.g. "verify scheduler: queue the
	// window's run".
	What string

	since time.Time
}

// Fail records a failed attempt and returns the wait before the next one.
// Only the first failure of an outage is logged.
func (r *Retry) Fail(err error) time.Duration {
	wait := r.Next()
	if r.since.IsZero() {
		r.since = time.Now()
		r.Log.Warn().Err(err).Int64("retry_in_ms", wait.Milliseconds()).Msg(r.What + " failed; retrying with backoff, logged again when it works")
	}
	return wait
}

// OK records a successful attempt; after an outage it logs the recovery
// and how long the outage lasted.
func (r *Retry) OK() {
	if !r.since.IsZero() {
		r.Log.Info().Int64("outage_ms", time.Since(r.since).Milliseconds()).Msg(r.What + " works again")
		r.since = time.Time{}
	}
	r.Reset()
}

// Down reports whether the last attempt failed.
func (r *Retry) Down() bool { return !r.since.IsZero() }
