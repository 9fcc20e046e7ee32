package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/archivd/archivd/internal/catalog"
)

// node is one archivd node: a config file, a database of its own in the
// shared cluster and at most one running `archivd serve`.
type node struct {
	b     *bench
	name  string
	cfg   string
	url   string
	port  int
	http  int // /metrics on 127.0.0.1:http
	serve *proc
	db    *catalog.DB
}

// collection is a collection declared in the node's config.
type collection struct {
	Name       string `json:"name"`
	DataRoot   string `json:"data_root"`
	TorrentDir string `json:"torrent_dir,omitempty"`
}

// newNode writes a config (peers on 127.0.0.1 only; DHT, PEX and port
// forwarding off; the bench's trackers (127.0.0.1 only); scheduled verification kept closed) and
// creates the node's database. verify is extra YAML for the verify key.
func (b *bench) newNode(verify string, cols ...collection) (*node, error) {
	b.nodes++
	n := &node{b: b, name: fmt.Sprintf("node%d", b.nodes), port: b.port(), http: b.port()}
	if err := b.pg.EnsureDatabase(b.ctx, n.name); err != nil {
		return nil, err
	}
	n.url = b.pg.URL(n.name)
	if b.urlParams != "" {
		sep := "?"
		if strings.Contains(n.url, "?") {
			sep = "&"
		}
		n.url += sep + b.urlParams
	}
	if verify == "" {
		verify = `schedules: ["0 1 1 1 *"], timezone: UTC`
	}
	tj, _ := json.Marshal(b.trackers)
	if b.trackers == nil {
		tj = []byte("[]")
	}
	cj, _ := json.Marshal(cols)
	if cols == nil {
		cj = []byte("[]")
	}
	level := b.logLevel
	if level == "" {
		level = "info"
	}
	conf := fmt.Sprintf(`node_id: %q
state_dir: %q
data_dir: %q
log: {level: %s, format: json}
database: {url: %q, auto_migrate: true}
network: {listen_host: 127.0.0.1, listen_port: %d, dht: false, pex: false, port_forwarding: false, trackers: %s}
http: {listen: "127.0.0.1:%d", debug_pprof: true}
verify: {%s}
collections: %s
%s`, n.name, b.path(n.name, "state"), b.path(n.name, "data"), level, n.url, n.port, tj, n.http, verify, cj, b.extraConf)
	n.cfg = b.path(n.name, "archivd.yaml")
	if err := os.WriteFile(n.cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.path(n.name, "state"), 0o755); err != nil {
		return nil, err
	}
	if _, err := n.cli("migrate"); err != nil {
		return nil, err
	}
	db, err := catalog.Open(b.ctx, n.url)
	if err != nil {
		return nil, err
	}
	// Piece states are per node (replicas): read them as this node.
	n.db = db.ForNode(n.name)
	return n, nil
}

// cli runs one archivd command to its end and returns its stdout.
func (n *node) cli(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(n.b.ctx, time.Hour)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.b.c.bin, append([]string{"--config", n.cfg}, args...)...)
	cmd.Env = cleanEnv()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("archivd %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// start runs `archivd serve`, with BENCH_ARCHIVD_ENV's K=V pairs
// (space-separated; e.g. GOGC=200) in its environment.
func (n *node) start(tag string) error {
	if n.serve != nil {
		select {
		case <-n.serve.done:
		default:
			return fmt.Errorf("%s: serve already running", n.name)
		}
	}
	p, err := n.b.start(n.name+"-serve-"+tag, strings.Fields(os.Getenv("BENCH_ARCHIVD_ENV")), n.b.c.bin, "--config", n.cfg, "serve")
	n.serve = p
	return err
}

// stop stops serve cleanly (SIGTERM): piece states committed.
func (n *node) stop() error {
	if n.serve == nil {
		return nil
	}
	return n.serve.stop(syscall.SIGTERM, 2*time.Minute)
}

// allComplete waits until the catalog holds want torrents and records
// every piece of each complete (hashed, durable), polling every 100 ms;
// it returns when that was first seen.
func (n *node) allComplete(want int, timeout time.Duration) (time.Time, error) {
	end := time.Now().Add(timeout)
	done := map[int64]bool{}
	for {
		if n.serve != nil {
			select {
			case <-n.serve.done:
				return time.Time{}, fmt.Errorf("%s exited: %v (logs/%s.log)", n.serve.name, n.serve.err, n.serve.name)
			default:
			}
		}
		ts, err := n.db.Torrents(n.b.ctx, catalog.TorrentFilter{})
		if err != nil {
			return time.Time{}, err
		}
		for _, t := range ts {
			if done[t.ID] || t.PieceCount == 0 {
				continue
			}
			c, err := n.db.CompletedPieces(n.b.ctx, t.ID, t.PieceCount)
			if err != nil {
				return time.Time{}, err
			}
			if c == t.PieceCount {
				done[t.ID] = true
			}
		}
		if len(done) >= want {
			return time.Now(), nil
		}
		if time.Now().After(end) {
			return time.Time{}, fmt.Errorf("%s: %d of %d torrents complete after %s", n.name, len(done), want, timeout)
		}
		select {
		case <-n.b.ctx.Done():
			return time.Time{}, n.b.ctx.Err()
		case <-time.After(20 * time.Millisecond): // as ltdrive.py's check polls libtorrent
		}
	}
}

// seeding waits until the serve log shows want torrents seeding: the
// seeder's "every torrent is seeding" line naming at least want torrents,
// or the first full reconcile that added them all (after a clean stop the
// engine adds them complete, without hashing). The seeding line alone is
// not enough: it is logged once, when every torrent in the engine seeds,
// and after a restart of 1,000 it came when 897 had been added.
func (n *node) seeding(want int, timeout time.Duration) (time.Time, error) {
	at, _, err := n.serve.waitLine(n.b.ctx, 0, timeout, func(l string) bool {
		var m struct {
			Msg      string `json:"message"`
			Torrents int    `json:"torrents"`
			Runnable int    `json:"runnable"`
			Added    int    `json:"added"`
		}
		if json.Unmarshal([]byte(l), &m) != nil {
			return false
		}
		return (m.Msg == "every torrent is seeding" && m.Torrents >= want) ||
			(m.Msg == "full reconcile" && m.Runnable >= want && m.Added >= want)
	})
	return at, err
}

var torrentFilterAll = catalog.TorrentFilter{}
