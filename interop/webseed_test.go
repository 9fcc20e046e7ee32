package interop

import (
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// webSeed serves dir over HTTP on 127.0.0.1 (net/http's file server
// answers Range requests) and counts the requests and bytes served.
type webSeed struct {
	URL      string
	requests atomic.Int64
	bytes    atomic.Int64
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

func startWebSeed(t *testing.T, dir string) *webSeed {
	t.Helper()
	ws := &webSeed{}
	fs := http.FileServer(http.Dir(dir))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws.requests.Add(1)
			fs.ServeHTTP(countingWriter{w, &ws.bytes}, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }() // ends with Close at cleanup
	t.Cleanup(func() { _ = srv.Close() })
	ws.URL = "http://" + l.Addr().String() + "/"
	return ws
}

// TestWebSeedOnlyDownloadAndRepair: a torrent whose only source is an HTTP
// web seed (BEP 19; no tracker answers, no other peer) is downloaded by
// archivd bit-identically; then a corrupted piece is repaired from the web
// seed alone, twice: found by `archivd verify` while running (the finding
// names the web seed), and found at start after being forgotten.
func TestWebSeedOnlyDownloadAndRepair(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	seedDir := t.TempDir()
	src := makeTree(t, seedDir, "tree8", dataSize(), 8)
	want := hashTree(t, src)
	ws := startWebSeed(t, seedDir)
	tor := filepath.Join(t.TempDir(), "tree8.torrent")
	// The announce URL is a closed port: no peer can be found through it.
	mktorrent(t, ctx, src, tor, 18, "http://127.0.0.1:1/announce", ws.URL)

	a := newArchivd(t, ctx)
	a.run("collection", "create", "web")
	a.run("add", "-c", "web", tor)
	a.start()
	began := time.Now()
	s := a.waitComplete("tree8", 2*time.Minute)
	t.Logf("archivd downloaded %d MiB from the web seed in %s (%d requests, %d bytes served)", dataSize()>>20,
		time.Since(began).Round(time.Millisecond), ws.requests.Load(), ws.bytes.Load())
	sameTree(t, "archivd", want, s.DataDir)
	if ws.bytes.Load() < dataSize() {
		t.Fatalf("web seed served %d bytes, want at least the torrent (%d)", ws.bytes.Load(), dataSize())
	}

	// Bitrot found by verification while archivd runs: the finding names
	// the web seed as the source of the repair.
	served := ws.bytes.Load()
	if src := a.repairInPlace("tree8", s, want); src != "web seed "+ws.URL {
		t.Fatalf("repair source %q, want %q", src, "web seed "+ws.URL)
	}
	if got := ws.bytes.Load() - served; got < s.PieceLength/2 {
		t.Fatalf("repair in place: web seed served %d bytes, want about one piece (%d)", got, s.PieceLength)
	}

	// A piece damaged while archivd was stopped and forgotten by the
	// catalog: hashed at start, found bad and fetched again.
	piece := a.corruptPiece(a.show("tree8"))
	served = ws.bytes.Load()
	a.start()
	a.waitComplete("tree8", 2*time.Minute)
	a.stop()
	sameTree(t, "archivd after repair", want, s.DataDir)
	if got := ws.bytes.Load() - served; got < s.PieceLength/2 {
		t.Fatalf("repair of piece %d: web seed served %d bytes, want about one piece (%d)", piece, got, s.PieceLength)
	} else {
		t.Logf("piece %d repaired from the web seed (%d bytes served)", piece, got)
	}
}
