package httpapi

import (
	"time"

	"github.com/archivd/archivd/internal/catalog"

	"github.com/prometheus/client_golang/prometheus"
)

// Counters are the event counts the daemon's parts report as they happen
// (the verifier and the repairer). They live on reg, which the server then
// serves at /metrics.
type Counters struct {
	reg            *prometheus.Registry
	piecesVerified prometheus.Counter
	piecesFailed   prometheus.Counter
	repairs        prometheus.Counter
	runs           *prometheus.CounterVec
	runDuration    prometheus.Histogram
	hashed         prometheus.Counter
}

// NewCounters creates the counters and registers them on reg.
func NewCounters(reg *prometheus.Registry) *Counters { return NewNodeCounters(reg, "") }

// NewNodeCounters is NewCounters with the node label of the series that
// count this node's own work.
func NewNodeCounters(reg *prometheus.Registry, node string) *Counters {
	own := prometheus.Labels{"node": node} // this node's own work
	c := &Counters{
		reg: reg,
		piecesVerified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "archivd_pieces_verified_total", Help: "Pieces hashed by this node's verification runs and found good.", ConstLabels: own}),
		piecesFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "archivd_pieces_failed_total", Help: "Pieces hashed by this node's verification runs and found bad or unreadable.", ConstLabels: own}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "archivd_repairs_total", Help: "Pieces repaired by this node (fetched again and verified).", ConstLabels: own}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "archivd_verify_runs_total", Help: "Verification runs this node finished, by result.", ConstLabels: own}, []string{"result"}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "archivd_verify_run_duration_seconds", Help: "Wall time of the verification runs this node finished.", ConstLabels: own,
			// Runs last from seconds (a small catalog) to a night's window.
			Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		hashed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "archivd_verify_hashed_bytes_total", Help: "Bytes read and hashed by verification on this node (counted per range recorded).",
			ConstLabels: own}),
	}
	reg.MustRegister(c.piecesVerified, c.piecesFailed, c.repairs, c.runs, c.runDuration, c.hashed)
	// Results a dashboard expects to see even before the first run.
	for _, r := range []catalog.RunState{catalog.RunDone, catalog.RunFailed, catalog.RunCancelled} {
		c.runs.WithLabelValues(string(r))
	}
	return c
}

// Registry is the registry the counters live on.
func (c *Counters) Registry() *prometheus.Registry { return c.reg }

// PiecesVerified counts n pieces found good.
func (c *Counters) PiecesVerified(n int) { c.piecesVerified.Add(float64(n)) }

// PiecesFailed counts n pieces found bad.
func (c *Counters) PiecesFailed(n int) { c.piecesFailed.Add(float64(n)) }

// Repaired counts n pieces repaired.
func (c *Counters) Repaired(n int) { c.repairs.Add(float64(n)) }

// RunFinished counts a finished verification run by result (done, failed,
// cancelled) and records how long it took.
func (c *Counters) RunFinished(result string, d time.Duration) {
	c.runs.WithLabelValues(result).Inc()
	c.runDuration.Observe(d.Seconds())
}

// Hashed counts bytes read and hashed by verification.
func (c *Counters) Hashed(bytes int64) { c.hashed.Add(float64(bytes)) }
