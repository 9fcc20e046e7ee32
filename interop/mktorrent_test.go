package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// mktorrent makes a v1 torrent of root with 2^log2Piece byte pieces.
func mktorrent(t *testing.T, ctx context.Context, root, out string, log2Piece int, tracker string, webSeeds ...string) {
	t.Helper()
	bin := need(t, "mktorrent", "mktorrent")
	args := []string{"-l", fmt.Sprint(log2Piece), "-o", out, "-a", tracker}
	for _, w := range webSeeds {
		args = append(args, "-w", w)
	}
	runTool(t, ctx, bin, append(args, root)...)
}

// transmissionCreate makes a torrent with transmission-create.
func transmissionCreate(t *testing.T, ctx context.Context, root, out string, pieceKiB int, tracker string) {
	t.Helper()
	bin := need(t, "transmission-create", "transmission-cli")
	runTool(t, ctx, bin, "-o", out, "-s", fmt.Sprint(pieceKiB), "-t", tracker, root)
}

func runTool(t *testing.T, ctx context.Context, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p := startProc(t, ctx, filepath.Base(bin), t.TempDir(), bin, args...)
	<-p.done
	if p.err != nil {
		t.Fatalf("%s %v: %v: %s", bin, args, p.err, tail([]byte(p.output()), 2048))
	}
}
