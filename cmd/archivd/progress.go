package main

import (
	"context"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// hashProgress returns a progress callback for torrentfile.Create that
// draws a bar on stderr when it is a terminal (nil otherwise), and a
// function that finishes the bar.
func hashProgress(ctx context.Context, a *app, label string) (func(hashed, total int64), func()) {
	if !a.stderrTTY {
		return nil, func() {}
	}
	// Auto refresh: we already know stderr is a terminal.
	p := mpb.NewWithContext(ctx, mpb.WithOutput(a.stderr), mpb.WithWidth(40), mpb.WithAutoRefresh())
	var bar *mpb.Bar
	update := func(hashed, total int64) {
		if bar == nil {
			bar = p.AddBar(total,
				mpb.PrependDecorators(decor.Name(label+" ", decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f")),
				mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.AverageSpeed(decor.SizeB1024(0), " % .1f")))
		}
		bar.SetCurrent(hashed)
	}
	finish := func() {
		if bar != nil && !bar.Completed() {
			bar.Abort(false)
		}
		p.Wait()
	}
	return update, finish
}
