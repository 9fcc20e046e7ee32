package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// opsCollector exports the scrub and storage numbers. Series labelled
// node are this node's own; the others are catalog-wide (every node's
// torrents) and say so in their help, so that a fleet's dashboards do not
// add them up per node.
type opsCollector struct {
	s                                *Server
	notVerifiedPieces, notVerifiedB  *prometheus.Desc
	oldestAge                        *prometheus.Desc
	stored, complete                 *prometheus.Desc
	running, runPlanned, runHashed   *prometheus.Desc
	runPaused                        *prometheus.Desc
	pending                          *prometheus.Desc
	pool, poolWaits, poolWaitSeconds *prometheus.Desc
}

func newOpsCollector(s *Server) *opsCollector {
	const cw = " Catalog-wide (all nodes)."
	return &opsCollector{s: s,
		notVerifiedPieces: desc("archivd_pieces_not_verified_in_interval", "Pieces not verified within their collection's verify interval."+cw),
		notVerifiedB:      desc("archivd_bytes_not_verified_in_interval", "Bytes of the pieces not verified within their interval."+cw),
		oldestAge:         desc("archivd_oldest_verification_age_seconds", "Age of the oldest verification of any piece range (never verified: since added)."+cw),
		stored:            desc("archivd_stored_bytes", "Bytes of data of the torrents in the catalog (not removed)."+cw),
		complete:          desc("archivd_complete_bytes", "Bytes of those recorded complete (verified and durable)."+cw),
		running:           desc("archivd_verify_run_active", "1 while a verify run is queued or running (paused included)."+cw),
		runPlanned:        desc("archivd_verify_run_planned_bytes", "Bytes the active verify run plans to hash."+cw),
		runHashed:         desc("archivd_verify_run_hashed_bytes", "Bytes the active verify run has hashed so far."+cw),
		runPaused:         desc("archivd_verify_run_paused", "1 while the active verify run is paused by an operator."+cw),
		pending:           desc("archivd_completions_pending", "Piece completions waiting to be committed to the catalog by this node.", "node"),
		pool:              desc("archivd_catalog_pool_connections", "Catalog connections of this node's pool by state (acquired, idle, total, max).", "node", "state"),
		poolWaits:         desc("archivd_catalog_pool_acquire_waits_total", "Acquisitions of a catalog connection that had to wait, this node.", "node"),
		poolWaitSeconds:   desc("archivd_catalog_pool_acquire_wait_seconds_total", "Time spent waiting for a catalog connection, this node.", "node"),
	}
}

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.notVerifiedPieces, c.notVerifiedB, c.oldestAge, c.stored, c.complete,
		c.running, c.runPlanned, c.runHashed, c.runPaused, c.pending, c.pool, c.poolWaits, c.poolWaitSeconds} {
		ch <- d
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	node := c.s.o.NodeID
	ps := c.s.o.DB.PoolStats()
	for state, n := range map[string]int32{"acquired": ps.Acquired, "idle": ps.Idle, "total": ps.Total, "max": ps.Max} {
		gauge(ch, c.pool, float64(n), node, state)
	}
	ch <- prometheus.MustNewConstMetric(c.poolWaits, prometheus.CounterValue, float64(ps.EmptyAcquire), node)
	ch <- prometheus.MustNewConstMetric(c.poolWaitSeconds, prometheus.CounterValue, ps.AcquireWait.Seconds(), node)
	if p, ok := c.s.o.Live.(interface{ PendingCompletions() int }); ok {
		gauge(ch, c.pending, float64(p.PendingCompletions()), node)
	}
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	if over, err := c.s.health.Overdue(ctx); err == nil {
		var pieces, bytes int64
		for _, t := range over {
			pieces, bytes = pieces+t.Count, bytes+t.Bytes
		}
		gauge(ch, c.notVerifiedPieces, float64(pieces))
		gauge(ch, c.notVerifiedB, float64(bytes))
	}
	st, err := c.s.o.DB.ScrubTotals(ctx)
	if err != nil {
		c.s.o.Logger.Warn().Err(err).Msg("metrics: scrub totals")
		return
	}
	gauge(ch, c.stored, float64(st.StoredBytes))
	gauge(ch, c.complete, float64(st.CompleteBytes))
	if st.OldestVerified != nil {
		gauge(ch, c.oldestAge, time.Since(*st.OldestVerified).Seconds())
	}
	var active, planned, hashed, paused float64
	if r := st.Active; r != nil {
		active, planned, hashed = 1, float64(r.BytesPlanned), float64(r.BytesHashed)
		if r.PausedAt != nil {
			paused = 1
		}
	}
	gauge(ch, c.running, active)
	gauge(ch, c.runPlanned, planned)
	gauge(ch, c.runHashed, hashed)
	gauge(ch, c.runPaused, paused)
}
