package daemon

import (
	"context"
	"time"

	"github.com/archivd/archivd/internal/health"
	"github.com/rs/zerolog"
)

// healthLogEvery is how often the daemon evaluates the health checks to
// log their changes.
const healthLogEvery = time.Minute

// healthChange is a check that was raised, changed severity or cleared.
type healthChange struct {
	Check   health.Check // the check now (zero Severity: cleared)
	Code    string
	Was     health.Severity
	Cleared bool
}

// healthChanges compares the severities of the last evaluation with rep.
func healthChanges(prev map[string]health.Severity, rep health.Report) []healthChange {
	var out []healthChange
	for _, code := range health.Codes {
		c, raised := rep.Raised(code)
		was := prev[code]
		switch {
		case raised && c.Severity != was:
			out = append(out, healthChange{Check: c, Code: code, Was: was})
		case !raised && was != health.OK:
			out = append(out, healthChange{Code: code, Was: was, Cleared: true})
		}
	}
	return out
}

// healthLog logs each health check once when it is raised, changes
// severity or clears (not on every evaluation), so that the journal says
// when a torrent became unavailable and when it came back.
func (d *Daemon) healthLog(ctx context.Context, ev *health.Evaluator) {
	prev := map[string]health.Severity{}
	for {
		rep := ev.Evaluate(ctx)
		if ctx.Err() != nil {
			return
		}
		for _, ch := range healthChanges(prev, rep) {
			d.logHealthChange(ch)
			prev[ch.Code] = ch.Check.Severity
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(healthLogEvery):
		}
	}
}

func (d *Daemon) logHealthChange(ch healthChange) {
	if ch.Cleared {
		d.log.Info().Str("code", ch.Code).Str("was", ch.Was.String()).Msg("health check cleared")
		return
	}
	ev := d.log.Warn()
	if ch.Check.Severity == health.Err {
		ev = d.log.Error()
	}
	logCheck(ev, ch).Msg("health check raised: " + ch.Check.Summary)
}

func logCheck(ev *zerolog.Event, ch healthChange) *zerolog.Event {
	return ev.Str("code", ch.Code).Str("severity", ch.Check.Severity.String()).Str("was", ch.Was.String()).
		Strs("detail", ch.Check.Detail).Str("command", ch.Check.Command)
}
