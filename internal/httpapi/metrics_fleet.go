package httpapi

import (
	"context"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/prometheus/client_golang/prometheus"
)

// fleetCollector exports the fleet: nodes by state and the operator flags.
// Both are catalog-wide (every node reports the same values).
type fleetCollector struct {
	s            *Server
	nodes, flags *prometheus.Desc
}

func newFleetCollector(s *Server) *fleetCollector {
	const cw = " Catalog-wide (all nodes: every node reports the same value)."
	return &fleetCollector{s: s,
		nodes: desc("archivd_fleet_nodes", "Nodes of the catalog: up, down, draining, maintenance, out (a node counts in up or down and in each other state it is in)."+cw, "state"),
		flags: desc("archivd_fleet_flag", "1 while the fleet flag is set ('archivd fleet set FLAG'), else 0."+cw, "flag"),
	}
}

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.nodes; ch <- c.flags }

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	ns, err := c.s.o.DB.Nodes(ctx)
	if err != nil {
		c.s.o.Logger.Warn().Err(err).Msg("metrics: fleet nodes")
		return
	}
	n := catalog.CountNodes(ns)
	for state, v := range map[string]int{"up": n.Up, "down": n.Down, "draining": n.Draining, "maintenance": n.Maintenance, "out": n.Out} {
		gauge(ch, c.nodes, float64(v), state)
	}
	set, err := c.s.o.DB.SetFleetFlags(ctx)
	if err != nil {
		c.s.o.Logger.Warn().Err(err).Msg("metrics: fleet flags")
		return
	}
	on := map[catalog.FleetFlag]bool{}
	for _, f := range set {
		on[f.Flag] = true
	}
	for _, f := range catalog.FleetFlags {
		v := 0.0
		if on[f] {
			v = 1
		}
		gauge(ch, c.flags, v, string(f))
	}
}
