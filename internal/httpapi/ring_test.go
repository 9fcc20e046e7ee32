package httpapi

import (
	"testing"
	"time"
)

func TestRingKeepsLastSamplesInOrderWithRates(t *testing.T) {
	r := newRing(5)
	t0 := time.Unix(1000, 0)
	for i := 0; i <= 8; i++ { // the first add is only the baseline
		r.add(t0.Add(time.Duration(i)*10*time.Second), int64(i)*1000, int64(i)*10)
	}
	ss := r.samples()
	if len(ss) != 5 {
		t.Fatalf("kept %d samples, want 5", len(ss))
	}
	for i, s := range ss {
		if want := t0.Add(time.Duration(i+4) * 10 * time.Second); !s.At.Equal(want) {
			t.Errorf("sample %d at %v, want %v", i, s.At, want)
		}
		if s.UploadBps != 100 || s.DownloadBps != 1 {
			t.Errorf("sample %d rates %v/%v, want 100/1", i, s.UploadBps, s.DownloadBps)
		}
	}
	// Totals that go down (an engine restart) give rate 0, not negative.
	r.add(t0.Add(90*time.Second), 0, 0)
	if s := r.samples()[4]; s.UploadBps != 0 || s.DownloadBps != 0 {
		t.Errorf("after a reset: %+v, want zero rates", s)
	}
}

func TestChartNeedsTwoSamples(t *testing.T) {
	r := newRing(5)
	r.add(time.Unix(0, 0), 0, 0)
	r.add(time.Unix(10, 0), 100, 0)
	if c := newChart(r.samples(), 10*time.Second); c.Samples != 1 || c.Up != "" {
		t.Errorf("one sample drew a chart: %+v", c)
	}
	r.add(time.Unix(20, 0), 300, 0)
	c := newChart(r.samples(), 10*time.Second)
	// Peak 20 B/s at the right edge (y 0), 10 B/s at the left (half height).
	if c.Up != "0.0,80.0 760.0,0.0 " || c.MaxLabel != "20 B/s" {
		t.Errorf("chart = %+v", c)
	}
}
