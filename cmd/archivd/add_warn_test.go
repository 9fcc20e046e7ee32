package main

import (
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/torrentfile/seedcorpus"
)

// TestAddHybridEndingMidBlockWarns: a libtorrent-made hybrid whose first
// file ends inside a 16 KiB block is added (exit 0) with a one-line
// warning on stderr naming the file: libtorrent peers cannot download it
// from archivd (engine limit). A v1 torrent gets no warning.
func TestAddHybridEndingMidBlockWarns(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct{ corpus, warn string }{
		{"real-lt-hybrid", "warning: torrent data is a hybrid (v1+v2) whose file .h ends inside a 16 KiB block"},
		{"real-lt-v1only", ""},
	} {
		e.stderr.Reset()
		e.createCollection(t, tc.corpus) // both torrents are named "data"
		mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: tc.corpus, Sources: []string{seedcorpus.File(t, tc.corpus)}}))
		got := strings.TrimSpace(e.stderr.String())
		if tc.warn == "" && got != "" || !strings.HasPrefix(got, tc.warn) || strings.Count(got, "\n") != 0 {
			t.Fatalf("%s: stderr %q, want %q", tc.corpus, got, tc.warn)
		}
	}
}
