package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"runtime"
	"sort"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/config"
	"github.com/archivd/archivd/internal/fleet"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/human"
)

//go:embed status.html
var statusHTML string

// statusHeadHTML is the "head" partial both pages start with: the
// document head and the styles they share (each page adds its own).
//
//go:embed status_head.html
var statusHeadHTML string

var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"bytes": human.Bytes,
	"rate":  func(f float64) string { return human.Bytes(int64(f)) + "/s" },
	"when":  when,
	"secs":  func(f float64) string { return (time.Duration(f) * time.Second).String() },
	"eta": func(f *float64) string {
		if f == nil {
			return "unknown"
		}
		return (time.Duration(*f) * time.Second).String()
	},
	"sev": sevClass,
	"pct": func(f float64) string { return fmt.Sprintf("%+.1f%%", f) },
	"stateClass": func(st string) string {
		switch st {
		case "unavailable", "damaged":
			return "bad"
		case "degraded", "paused", "incomplete":
			return "warn"
		}
		return "ok"
	},
}).Parse(statusHeadHTML + statusHTML))

// statusPage is what the status template shows.
type statusPage struct {
	Version, GoVersion   string
	Now                  time.Time
	DBErr, EngineErr     string
	ReadyErr             string
	Collections          []catalog.Collection
	CollectionsErr       string
	States               []stateCount
	Stats                catalog.OpsStats
	StatsErr             string
	LastRun              *catalog.VerifyRun
	Findings             []catalog.FindingView
	Uploaded, Downloaded int64
	Peers                int
	Chart                chart
	Health               health.Report
	List                 torrentList
	Scrub                scrubView
	Fleet                fleetView
}

// fleetView is the nodes of the catalog and the fleet flags set.
type fleetView struct {
	Self   string // this node's id
	Nodes  []catalog.Node
	Counts catalog.NodeCounts
	Flags  []catalog.FleetFlagSet
	// Recovery: replicas placed by the planner still fetching, and the
	// rate over the last minute (as 'archivd fleet status').
	Recovery catalog.RecoveryStats
	// Balance: each member node's replica bytes against its share (as
	// `archivd fleet status`), by node id; Margin is fleet.balance_margin.
	Balance       map[string]*fleet.Share
	MovesInFlight int
	Margin        float64
	Err           string
}

// scrubView is the active verify run with its progress, and the next
// scheduled window.
type scrubView struct {
	Run        *catalog.VerifyRun
	Percent    float64
	Rate       float64 // bytes/s over the time it ran
	Left       string  // estimated time left; "" unknown
	NextWindow time.Time
	Err        string
}

type stateCount struct {
	State string
	N     int
}

// statusTimeout bounds the catalog reads of one page view.
const statusTimeout = 5 * time.Second

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
	defer cancel()
	p := s.statusData(ctx)
	if rows, err := s.o.DB.TorrentRows(ctx); err != nil {
		p.List.Err = err.Error()
	} else {
		p.List = newList(rows, r.URL.Query())
	}
	var buf bytes.Buffer
	if err := statusTmpl.Execute(&buf, p); err != nil {
		s.fail(w, r, fmt.Errorf("render status page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// statusData gathers the page; each failing part shows its error instead
// of failing the page, which matters most when the database is away.
func (s *Server) statusData(ctx context.Context) statusPage {
	p := statusPage{Version: s.o.Version, GoVersion: runtime.Version(), Now: time.Now()}
	if err := s.o.DB.Ping(ctx); err != nil {
		p.DBErr = err.Error()
	}
	if err := s.engineAlive(); err != nil {
		p.EngineErr = err.Error()
	}
	if err := s.Ready(ctx); err != nil {
		p.ReadyErr = err.Error()
	}
	p.Health = s.evaluate(ctx)
	var err error
	if p.Collections, err = s.o.DB.Collections(ctx); err != nil {
		p.CollectionsErr = err.Error()
	}
	if p.Stats, err = s.o.DB.OpsSnapshot(ctx); err != nil {
		p.StatsErr = err.Error()
	}
	for st, n := range p.Stats.TorrentsByState {
		p.States = append(p.States, stateCount{st, n})
	}
	sort.Slice(p.States, func(i, j int) bool { return p.States[i].State < p.States[j].State })
	if run, ok, err := s.o.DB.LastFinishedVerifyRun(ctx); err == nil && ok {
		p.LastRun = &run
	}
	p.Findings, _ = s.o.DB.FindingViews(ctx, catalog.FindingFilterView{State: "unresolved", Limit: 20})
	if s.o.Live != nil {
		p.Uploaded, p.Downloaded = s.o.Live.Transfer()
		p.Peers = s.o.Live.Peers()
	}
	p.Chart = newChart(s.ring.samples(), s.sampleInterval())
	p.Scrub = s.scrubView(ctx, p.Now)
	p.Fleet = s.fleetView(ctx)
	return p
}

func (s *Server) fleetView(ctx context.Context) fleetView {
	v := fleetView{Self: s.o.NodeID}
	var err error
	if v.Nodes, err = s.o.DB.Nodes(ctx); err != nil {
		v.Err = err.Error()
		return v
	}
	v.Counts = catalog.CountNodes(v.Nodes)
	if v.Flags, err = s.o.DB.SetFleetFlags(ctx); err != nil {
		v.Err = err.Error()
	}
	stall := config.Default().Fleet.RecoveryStallAfter
	if s.o.StallAfter != nil {
		stall = s.o.StallAfter()
	}
	if v.Recovery, err = s.o.DB.Recovery(ctx, time.Minute, stall); err != nil {
		v.Err = err.Error()
	}
	bn, moving, err := s.o.DB.BalanceNodes(ctx, stall)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	v.Margin = config.Default().Fleet.BalanceMargin
	if s.o.BalanceMargin != nil {
		v.Margin = s.o.BalanceMargin()
	}
	v.Balance = map[string]*fleet.Share{}
	for _, sh := range fleet.Shares(bn, moving, v.Margin) {
		v.Balance[sh.Node] = &sh
		v.MovesInFlight += sh.MovesIn
	}
	return v
}

func (s *Server) scrubView(ctx context.Context, now time.Time) scrubView {
	var v scrubView
	var err error
	if v.NextWindow, err = s.health.NextWindow(now); err != nil {
		v.Err = err.Error()
	}
	st, err := s.o.DB.ScrubTotals(ctx)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	r := st.Active
	if r == nil {
		return v
	}
	v.Run = r
	p := r.Progress(now)
	v.Percent, v.Rate = p.Percent, p.Rate
	if p.Left > 0 && r.PausedAt == nil {
		v.Left = (time.Duration(p.Left) * time.Second).Round(time.Second).String()
	}
	return v
}

func when(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// sevClass is the CSS class of a severity: the badge is green only when
// every check is OK.
func sevClass(s health.Severity) string {
	switch s {
	case health.Err:
		return "bad"
	case health.Warn:
		return "warn"
	}
	return "ok"
}
