package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/rs/zerolog"
)

// lockedBuffer is a log sink the device workers may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestMissingFileOfManyPiecesLogsOneWarning: a missing file of 256 pieces,
// read in 64 ranges, is one warning of the run (its kind, count and piece
// range), not one per piece; each piece is still logged at debug.
func TestMissingFileOfManyPiecesLogsOneWarning(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	const pl = 16 << 10
	fx := addTorrent(t, db, t.TempDir(), "big", pl, 256*pl, 3*pl)
	if err := os.Remove(fx.path(0)); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cfg := testConfig(t)
	cfg.Logger = zerolog.New(&logs).Level(zerolog.DebugLevel)
	cfg.RangeBytes = 4 * pl
	if _, err := RunOffline(context.Background(), db, cfg, Scope{}, nil); err != nil {
		t.Fatal(err)
	}
	var warns []map[string]any
	debug := 0
	for _, l := range strings.Split(strings.TrimSpace(logs.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		switch {
		case m["level"] == "warn":
			warns = append(warns, m)
		case m["level"] == "debug" && m["message"] == "verify: bad piece":
			debug++
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d warning lines, want 1: %v", len(warns), warns)
	}
	w := warns[0]
	if w["kind"] != "missing_file" || w["file"] != fx.Files[0].Path || w["pieces"] != float64(256) || w["piece_ranges"] != "0-255" {
		t.Fatalf("warning %v: want kind missing_file, file %s, 256 pieces, piece_ranges 0-255", w, fx.Files[0].Path)
	}
	if debug != 256 {
		t.Fatalf("%d bad pieces logged at debug, want 256", debug)
	}
}

func TestPieceRangesAreMergedAndBounded(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ps   []int
		want string
	}{
		{[]int{3}, "3"},
		{[]int{5, 1, 2, 3, 3, 9}, "1-3,5,9"},
		{[]int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 19, 20}, "0,2,4,6,8,10,12,14 and 2 more ranges"},
	} {
		if got := pieceRanges(c.ps, 8); got != c.want {
			t.Errorf("pieceRanges(%v) = %q, want %q", c.ps, got, c.want)
		}
	}
}
