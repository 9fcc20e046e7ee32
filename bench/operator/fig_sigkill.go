package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/archivd/archivd/internal/torrentfile"
)

// figSigkill: an archivd node seeds the data set (found through
// opentracker on 127.0.0.1); a downloader is SIGKILLed once half of the
// pieces are recorded complete, restarted, and runs to the end. What the
// seed sent beyond the torrent's size was fetched twice. The downloader
// is an archivd node, then libtorrent (killed at progress >= 0.5 and
// restarted without resume data, so it checks what it has).
func figSigkill(b *bench) error {
	s, err := b.set()
	if err != nil {
		return err
	}
	t, err := torrentfile.Load(s.torrent)
	if err != nil {
		return err
	}
	url, err := b.tracker(fmt.Sprintf("%x", t.InfoHash))
	if err != nil {
		return err
	}
	b.trackers = []string{url}
	defer func() { b.trackers = nil }()
	seed, _, err := b.seedNode("sigkill-seed")
	if err != nil {
		return err
	}
	defer seed.stop()
	fmt.Printf("FIGURE sigkill: %d MiB, 4 MiB pieces, downloader SIGKILLed at half\n", s.size>>20)
	var ours, lt, atOurs, atLT series
	for r := 1; r <= b.c.rounds; r++ {
		before, err := seed.uploaded()
		if err != nil {
			return err
		}
		at, err := b.killArchivdAtHalf(s, t.PieceCount, r)
		if err != nil {
			return err
		}
		mid, err := seed.uploaded()
		if err != nil {
			return err
		}
		atLTv, err := b.killLTAtHalf(s, seed.port, r)
		if err != nil {
			return err
		}
		after, err := seed.uploaded()
		if err != nil {
			return err
		}
		again := func(sent float64) float64 { return (sent - float64(s.size)) / float64(s.size) * 100 }
		ours.add(again(mid - before))
		lt.add(again(after - mid))
		atOurs.add(at * 100)
		atLT.add(atLTv * 100)
		fmt.Printf("ROUND %d fetched again: archivd %.2f%% of the size (killed at %.1f%%), libtorrent %.2f%% (killed at %.1f%%)\n",
			r, again(mid-before), at*100, again(after-mid), atLTv*100)
	}
	result("bytes fetched again after SIGKILL at half, % of the size", "%", &ours, "libtorrent", &lt)
	result("complete at the kill, %", "%", &atOurs, "libtorrent", &atLT)
	return nil
}

// killArchivdAtHalf downloads s into a fresh archivd node, SIGKILLs it
// once half the pieces are recorded complete and restarts it to the end;
// it returns the share complete at the kill.
func (b *bench) killArchivdAtHalf(s *dataSet, pieces, round int) (float64, error) {
	n, err := b.newNode("")
	if err != nil {
		return 0, err
	}
	dl := b.path(n.name, "dl")
	if _, err := n.cli("collection", "create", "--data-root", dl, "dl"); err != nil {
		return 0, err
	}
	if _, err := n.cli("add", "-c", "dl", s.torrent); err != nil {
		return 0, err
	}
	if err := n.start(fmt.Sprintf("dl-r%d-a", round)); err != nil {
		return 0, err
	}
	ts, err := n.db.Torrents(b.ctx, torrentFilterAll)
	if err != nil || len(ts) != 1 {
		return 0, fmt.Errorf("downloader's torrent: %v (%d)", err, len(ts))
	}
	var c int
	began := time.Now()
	for end := time.Now().Add(10 * time.Minute); c*2 < pieces; time.Sleep(20 * time.Millisecond) {
		if c, err = n.db.CompletedPieces(b.ctx, ts[0].ID, pieces); err != nil {
			return 0, err
		}
		if time.Now().After(end) {
			return 0, fmt.Errorf("downloader: %d of %d pieces after 10 minutes", c, pieces)
		}
	}
	if err := n.serve.stop(syscall.SIGKILL, 10*time.Second); err != nil {
		return 0, err
	}
	fmt.Printf("ROUND %d downloader: half in %.2f s (%.0f MB/s, start included)\n", round, time.Since(began).Seconds(),
		float64(c)*float64(s.size)/float64(pieces)/time.Since(began).Seconds()/1e6)
	if err := b.printKillScan(s, n, ts[0].ID, pieces, round); err != nil {
		return 0, err
	}
	if err := n.start(fmt.Sprintf("dl-r%d-b", round)); err != nil {
		return 0, err
	}
	if _, err := n.allComplete(1, 10*time.Minute); err != nil {
		return 0, err
	}
	_ = os.RemoveAll(dl)
	return float64(c) / float64(pieces), n.stop()
}

// printKillScan prints what the killed downloader left on disk and in
// its catalog (pieces recorded complete, written, partly written).
func (b *bench) printKillScan(s *dataSet, n *node, id int64, pieces, round int) error {
	c, err := n.db.CompletedPieces(b.ctx, id, pieces)
	if err != nil {
		return err
	}
	var files []string
	var sizes []int64
	for _, f := range s.files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, f)
		if err != nil {
			return err
		}
		files = append(files, filepath.Join(b.path(n.name, "dl"), rel))
		sizes = append(sizes, st.Size())
	}
	data, err := pieceData(files, sizes, 4<<20)
	if err != nil {
		return err
	}
	fmt.Printf("ROUND %d at the kill: %s\n", round, killScan(data, 4<<20, c))
	return nil
}

// killLTAtHalf: the same with a libtorrent downloader.
func (b *bench) killLTAtHalf(s *dataSet, port, round int) (float64, error) {
	dir := b.path("leech", fmt.Sprintf("sigkill-r%d", round))
	defer os.RemoveAll(dir)
	p, err := b.ltLeech(fmt.Sprintf("lt-sigkill-r%d-a", round), s.torrent, dir, "127.0.0.1", port)
	if err != nil {
		return 0, err
	}
	var at float64
	if _, err := ltUntil(p, b, 10*time.Minute, func(st ltStatus) bool { at = st.Prog; return st.Prog >= 0.5 }); err != nil {
		return 0, err
	}
	_ = p.stop(syscall.SIGKILL, 10*time.Second)
	p, err = b.ltLeech(fmt.Sprintf("lt-sigkill-r%d-b", round), s.torrent, dir, "127.0.0.1", port)
	if err != nil {
		return 0, err
	}
	_, err = b.ltLeechWait(p)
	return at, err
}

// uploaded reads archivd_uploaded_bytes_total from the node's /metrics.
func (n *node) uploaded() (float64, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", n.http))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		// archivd_uploaded_bytes_total{node="..."} VALUE: this node's own.
		if rest, ok := strings.CutPrefix(sc.Text(), "archivd_uploaded_bytes_total{"); ok {
			if _, v, ok := strings.Cut(rest, "} "); ok {
				return strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no archivd_uploaded_bytes_total in /metrics", n.name)
}

// tracker starts opentracker on 127.0.0.1 tracking only the info hash
// (Debian builds it in whitelist mode) and returns its announce URL.
func (b *bench) tracker(infohash string) (string, error) {
	dir := b.path("tracker")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(infohash+"\n"), 0o644); err != nil {
		return "", err
	}
	port := strconv.Itoa(b.port())
	// As root opentracker chroots to -d: the list is named relative to it.
	if _, err := b.start("opentracker", nil, "opentracker", "-i", "127.0.0.1", "-p", port, "-P", port, "-d", dir, "-w", "whitelist"); err != nil {
		return "", err
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			return "http://127.0.0.1:" + port + "/announce", nil
		}
		if time.Now().After(end) {
			return "", fmt.Errorf("opentracker not listening on %s after 10 s: %w", port, err)
		}
	}
}
