package httpapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/human"
)

// chart is the throughput plot, drawn server-side as SVG polylines so the
// page needs no script and no external asset.
type chart struct {
	W, H           int    // plot area
	VW, VH         int    // view box: the plot plus margins for labels
	Up, Down       string // polyline points
	MaxLabel       string
	From, To       string
	Samples        int
	Interval       time.Duration
	LastUp, LastDn float64
}

const chartW, chartH = 760, 160

func newChart(ss []Sample, every time.Duration) chart {
	c := chart{W: chartW, H: chartH, VW: chartW + 8, VH: chartH + 20, Samples: len(ss), Interval: every}
	if len(ss) < 2 {
		return c
	}
	peak := 1.0
	for _, s := range ss {
		peak = max(peak, s.UploadBps, s.DownloadBps)
	}
	t0, t1 := ss[0].At, ss[len(ss)-1].At
	span := t1.Sub(t0).Seconds()
	var up, dn strings.Builder
	for _, s := range ss {
		x := float64(chartW) * s.At.Sub(t0).Seconds() / span
		fmt.Fprintf(&up, "%.1f,%.1f ", x, chartH-float64(chartH)*s.UploadBps/peak)
		fmt.Fprintf(&dn, "%.1f,%.1f ", x, chartH-float64(chartH)*s.DownloadBps/peak)
	}
	c.Up, c.Down = up.String(), dn.String()
	c.MaxLabel = human.Bytes(int64(peak)) + "/s"
	c.From, c.To = t0.UTC().Format("15:04:05"), t1.UTC().Format("15:04:05 UTC")
	c.LastUp, c.LastDn = ss[len(ss)-1].UploadBps, ss[len(ss)-1].DownloadBps
	return c
}
