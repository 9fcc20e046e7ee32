package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// catalogTimeout bounds the catalog queries of one scrape: a stuck
// database must not hang /metrics (it reports archivd_catalog_up 0).
const catalogTimeout = 2 * time.Second

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// scrapeCollector reads the catalog and the engine at scrape time.
type scrapeCollector struct {
	s          *Server
	catalogUp  *prometheus.Desc
	torrents   *prometheus.Desc
	findings   *prometheus.Desc
	lastVerify *prometheus.Desc
	uploaded   *prometheus.Desc
	downloaded *prometheus.Desc
	peers      *prometheus.Desc
	engineUp   *prometheus.Desc
	tUp, tDown *prometheus.Desc
	tPeers     *prometheus.Desc
	tComplete  *prometheus.Desc
	tPieces    *prometheus.Desc
}

func newScrapeCollector(s *Server) *scrapeCollector {
	tl := []string{"node", "infohash", "name"}
	const cw = " Catalog-wide (all nodes: every node reports the same value)."
	return &scrapeCollector{
		s:          s,
		catalogUp:  desc("archivd_catalog_up", "1 when the catalog answered this scrape's queries."),
		torrents:   desc("archivd_torrents", "Torrents in the catalog by state (unavailable counts torrents whose data is unavailable)."+cw, "state"),
		findings:   desc("archivd_findings_open", "Findings not yet repaired."+cw),
		lastVerify: desc("archivd_last_successful_verify_timestamp_seconds", "Finish time of the latest verification run that completed."+cw),
		uploaded:   desc("archivd_uploaded_bytes_total", "Bytes uploaded by this node since it started, all torrents.", "node"),
		downloaded: desc("archivd_downloaded_bytes_total", "Bytes downloaded by this node since it started, all torrents.", "node"),
		peers:      desc("archivd_peers", "Peers connected to this node.", "node"),
		engineUp:   desc("archivd_engine_up", "1 when this node's torrent engine runs.", "node"),
		tUp:        desc("archivd_torrent_uploaded_bytes_total", "Bytes uploaded by this node since it started, per torrent.", tl...),
		tDown:      desc("archivd_torrent_downloaded_bytes_total", "Bytes downloaded by this node since it started, per torrent.", tl...),
		tPeers:     desc("archivd_torrent_peers", "Peers connected to this node, per torrent.", tl...),
		tComplete:  desc("archivd_torrent_pieces_complete", "Pieces complete in this node's engine, per torrent.", tl...),
		tPieces:    desc("archivd_torrent_pieces", "Pieces, per torrent.", tl...),
	}
}

// Describe lists every descriptor, so that describing never queries the
// catalog.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.catalogUp, c.torrents, c.findings, c.lastVerify, c.uploaded,
		c.downloaded, c.peers, c.engineUp, c.tUp, c.tDown, c.tPeers, c.tComplete, c.tPieces} {
		ch <- d
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	c.collectCatalog(ch)
	c.collectLive(ch)
}

func (c *scrapeCollector) collectCatalog(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	st, err := c.s.o.DB.OpsSnapshot(ctx)
	if err != nil {
		c.s.o.Logger.Warn().Err(err).Msg("metrics: catalog unavailable")
		ch <- prometheus.MustNewConstMetric(c.catalogUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.catalogUp, prometheus.GaugeValue, 1)
	for state, n := range st.TorrentsByState {
		ch <- prometheus.MustNewConstMetric(c.torrents, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.findings, prometheus.GaugeValue, float64(st.FindingsOpen))
	if st.LastSuccessfulVerify != nil {
		ch <- prometheus.MustNewConstMetric(c.lastVerify, prometheus.GaugeValue,
			float64(st.LastSuccessfulVerify.UnixNano())/1e9)
	}
}

func (c *scrapeCollector) collectLive(ch chan<- prometheus.Metric) {
	live, node := c.s.o.Live, c.s.o.NodeID
	if live == nil {
		ch <- prometheus.MustNewConstMetric(c.engineUp, prometheus.GaugeValue, 0, node)
		return
	}
	up := 0.0
	if live.EngineAlive() == nil {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.engineUp, prometheus.GaugeValue, up, node)
	u, d := live.Transfer()
	ch <- prometheus.MustNewConstMetric(c.uploaded, prometheus.CounterValue, float64(u), node)
	ch <- prometheus.MustNewConstMetric(c.downloaded, prometheus.CounterValue, float64(d), node)
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(live.Peers()), node)
	if !c.s.o.PerTorrentMetrics {
		return
	}
	for _, t := range live.PerTorrent() {
		ch <- prometheus.MustNewConstMetric(c.tUp, prometheus.CounterValue, float64(t.Uploaded), node, t.InfoHash, t.Name)
		ch <- prometheus.MustNewConstMetric(c.tDown, prometheus.CounterValue, float64(t.Downloaded), node, t.InfoHash, t.Name)
		ch <- prometheus.MustNewConstMetric(c.tPeers, prometheus.GaugeValue, float64(t.Peers), node, t.InfoHash, t.Name)
		ch <- prometheus.MustNewConstMetric(c.tComplete, prometheus.GaugeValue, float64(t.Complete), node, t.InfoHash, t.Name)
		ch <- prometheus.MustNewConstMetric(c.tPieces, prometheus.GaugeValue, float64(t.Pieces), node, t.InfoHash, t.Name)
	}
}

// setupMetrics registers the scrape-time collector, build info and the Go
// runtime and process collectors on the counters' registry.
func (s *Server) setupMetrics() error {
	if s.o.Counters == nil {
		s.o.Counters = NewCounters(prometheus.NewRegistry())
	}
	s.counters = s.o.Counters
	s.reg = s.counters.reg
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "archivd_build_info", Help: "Build of the running archivd (value 1).",
		ConstLabels: prometheus.Labels{"version": s.o.Version, "goversion": runtime.Version(), "node": s.o.NodeID}})
	build.Set(1)
	for _, c := range []prometheus.Collector{newScrapeCollector(s), newHealthCollector(s), newOpsCollector(s), newFleetCollector(s), build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := s.reg.Register(c); err != nil {
			return fmt.Errorf("httpapi: register metrics (a second server on the same Counters?): %w", err)
		}
	}
	return nil
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:      zerologPromLogger{s.o.Logger},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}
