package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/archivd/archivd/internal/health"
	"github.com/prometheus/client_golang/prometheus"
)

// healthTimeout bounds one evaluation of the health checks.
const healthTimeout = 5 * time.Second

func (s *Server) evaluate(ctx context.Context) health.Report {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	return s.health.Evaluate(ctx)
}

// handleHealthDetail answers the named checks as JSON, always with 200:
// data health is reported, not a reason to restart the process (that is
// /readyz's job, and it stays a process check).
func (s *Server) handleHealthDetail(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.evaluate(r.Context()))
}

// healthCollector exports the evaluation: one series per check code, so
// that alert rules can match a code that is not raised (value 0).
type healthCollector struct {
	s      *Server
	status *prometheus.Desc
	check  *prometheus.Desc
}

func newHealthCollector(s *Server) *healthCollector {
	return &healthCollector{s: s,
		status: desc("archivd_health_status", "Worst severity of the named health checks: 0 OK, 1 WARN, 2 ERR (catalog-wide, as seen by this node).", "node"),
		check: desc("archivd_health_check", "Severity of each named health check: 0 OK (not raised), 1 WARN, 2 ERR; "+
			"'archivd health' names what is affected.", "node", "code"),
	}
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.status; ch <- c.check }

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	rep := c.s.evaluate(context.Background())
	node := c.s.o.NodeID
	ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, float64(rep.Status), node)
	for _, code := range health.Codes {
		ch <- prometheus.MustNewConstMetric(c.check, prometheus.GaugeValue, float64(rep.Level(code)), node, code)
	}
}
