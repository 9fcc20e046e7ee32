package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ltStatus is one status line of ltdrive.py.
type ltStatus struct {
	Done    bool    `json:"done"`
	Seeding bool    `json:"seeding"`
	Prog    float64 `json:"progress"`
	Saved   *int    `json:"saved"`
}

func parseLT(l string) (ltStatus, bool) {
	var s ltStatus
	if !strings.HasPrefix(l, "{") || json.Unmarshal([]byte(l), &s) != nil {
		return s, false
	}
	return s, true
}

// lt starts interop/testdata/ltdrive.py (Debian's python3-libtorrent:
// DHT, LSD, UPnP, NAT-PMP and PEX off, listening on 127.0.0.1 or the
// given 127.x host) with arg.
func (b *bench) lt(name string, arg map[string]any) (*proc, error) {
	j, _ := json.Marshal(arg)
	return b.start(name, nil, "/usr/bin/python3", b.c.ltdrive, string(j))
}

// ltUntil waits for the first status line that ok accepts and returns
// the time from the process start to it.
func ltUntil(p *proc, b *bench, timeout time.Duration, ok func(ltStatus) bool) (time.Duration, error) {
	at, _, err := p.waitLine(b.ctx, 0, timeout, func(l string) bool {
		s, good := parseLT(l)
		return good && ok(s)
	})
	if err != nil {
		return 0, err
	}
	return at.Sub(p.started), nil
}

// ltSeed starts libtorrent seeding torrent from savePath (TCP only) and
// waits until it has checked the data and seeds.
func (b *bench) ltSeed(name, torrent, savePath string, port int) (*proc, error) {
	p, err := b.lt(name, map[string]any{"mode": "seed", "torrent": torrent, "save_path": savePath, "port": port, "tcp_only": true})
	if err != nil {
		return nil, err
	}
	_, err = ltUntil(p, b, 10*time.Minute, func(s ltStatus) bool { return s.Seeding && s.Prog == 1 })
	return p, err
}

// ltLeech downloads torrent from the peer at 127.0.0.1:port alone (no
// tracker, TCP only) into dir and returns the time from its start to its
// last verified piece.
func (b *bench) ltLeech(name, torrent, dir, host string, port int) (*proc, error) {
	return b.lt(name, map[string]any{"mode": "download", "torrent": torrent, "save_path": dir,
		"port": b.port(), "peers": []string{fmt.Sprintf("127.0.0.1:%d", port)}, "tcp_only": true,
		"no_tracker": true, "host": host})
}

func (b *bench) ltLeechWait(p *proc) (time.Duration, error) {
	d, err := ltUntil(p, b, 10*time.Minute, func(s ltStatus) bool { return s.Done })
	if err != nil {
		return 0, err
	}
	return d, p.wait(time.Minute)
}
