package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// transmission is a running transmission-daemon driven over its RPC.
type transmission struct {
	t       *testing.T
	rpc     string
	session string
	proc    *proc
	Port    int // peer port
	// downloadDir is where transmission keeps the data of added torrents.
	downloadDir string
}

func startTransmission(t *testing.T, ctx context.Context, downloadDir string) *transmission {
	t.Helper()
	return startTransmissionLog(t, ctx, downloadDir, false)
}

// startTransmissionLog is startTransmission with, if deep, transmission's
// debug log (every handshake and peer decision, TR_DEBUG_FD) in its output.
// That log is block-buffered: a line shows up some seconds late.
func startTransmissionLog(t *testing.T, ctx context.Context, downloadDir string, deep bool) *transmission {
	t.Helper()
	bin := need(t, "transmission-daemon", "transmission-daemon")
	cfgDir := t.TempDir()
	peerPort, rpcPort := testutil.FreePort(t, "127.0.0.1"), testutil.FreePort(t, "127.0.0.1")
	settings := map[string]any{
		"dht-enabled": false, "pex-enabled": false, "lpd-enabled": false, "port-forwarding-enabled": false,
		"utp-enabled": false, "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
		"peer-port": peerPort, "peer-port-random-on-start": false,
		"rpc-enabled": true, "rpc-bind-address": "127.0.0.1", "rpc-port": rpcPort,
		"rpc-authentication-required": false, "rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
		"download-dir": downloadDir, "incomplete-dir-enabled": false, "start-added-torrents": true,
		"speed-limit-up-enabled": false, "speed-limit-down-enabled": false, "alt-speed-enabled": false,
		"ratio-limit-enabled": false, "idle-seeding-limit-enabled": false, "blocklist-enabled": false,
		"encryption": 0, "message-level": trMessageLevel(), "cache-size-mb": 4, "peer-limit-per-torrent": 50,
	}
	b, _ := json.MarshalIndent(settings, "", " ")
	if err := os.WriteFile(filepath.Join(cfgDir, "settings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	if deep {
		env = []string{"TR_DEBUG_FD=2"}
	}
	p := startProcEnv(t, ctx, "transmission-daemon", cfgDir, env, bin, "-f", "-g", cfgDir)
	tr := &transmission{t: t, rpc: fmt.Sprintf("http://127.0.0.1:%d/transmission/rpc", rpcPort), proc: p, Port: peerPort, downloadDir: downloadDir}
	waitFor(t, "transmission rpc", 20*time.Second, func() (bool, string) {
		if p.exited() {
			t.Fatalf("transmission-daemon exited: %v: %s", p.err, p.output())
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", rpcPort), time.Second)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
	return tr
}

// trMessageLevel is transmission's log level: ARCHIVD_INTEROP_TR_LEVEL
// (3 = debug, every handshake and peer message) or 2 (info).
func trMessageLevel() int {
	if l, err := strconv.Atoi(os.Getenv("ARCHIVD_INTEROP_TR_LEVEL")); err == nil {
		return l
	}
	return 2
}

// call performs one RPC, handling the session id handshake (409).
func (tr *transmission) call(method string, args any, result any) {
	tr.t.Helper()
	body, _ := json.Marshal(map[string]any{"method": method, "arguments": args})
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, tr.rpc, bytes.NewReader(body))
		req.Header.Set("X-Transmission-Session-Id", tr.session)
		c := http.Client{Timeout: 30 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			tr.t.Fatalf("transmission %s: %v", method, err)
		}
		if resp.StatusCode == http.StatusConflict {
			tr.session = resp.Header.Get("X-Transmission-Session-Id")
			resp.Body.Close()
			continue
		}
		var r struct {
			Result    string          `json:"result"`
			Arguments json.RawMessage `json:"arguments"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || r.Result != "success" {
			tr.t.Fatalf("transmission %s: status %d, result %q, err %v", method, resp.StatusCode, r.Result, err)
		}
		if result != nil {
			if err := json.Unmarshal(r.Arguments, result); err != nil {
				tr.t.Fatalf("transmission %s: decode: %v", method, err)
			}
		}
		return
	}
	tr.t.Fatalf("transmission %s: no session id after 3 tries", method)
}

// add adds a .torrent with its data in dir and returns its id.
func (tr *transmission) add(torrent, dir string) int {
	tr.t.Helper()
	raw, err := os.ReadFile(torrent)
	if err != nil {
		tr.t.Fatal(err)
	}
	return tr.addArgs(map[string]any{"metainfo": base64.StdEncoding.EncodeToString(raw), "download-dir": dir})
}

func (tr *transmission) addArgs(args map[string]any) int {
	tr.t.Helper()
	var r struct {
		Added *struct {
			ID int `json:"id"`
		} `json:"torrent-added"`
		Dup *struct {
			ID int `json:"id"`
		} `json:"torrent-duplicate"`
	}
	tr.call("torrent-add", args, &r)
	if r.Added == nil {
		tr.t.Fatalf("transmission torrent-add: not added (duplicate: %v)", r.Dup != nil)
	}
	return r.Added.ID
}

// trTorrent is the part of torrent-get the tests read.
type trTorrent struct {
	ID              int     `json:"id"`
	HashString      string  `json:"hashString"`
	Status          int     `json:"status"` // 0 stopped, 1/2 check, 3/4 download, 5/6 seed
	PercentDone     float64 `json:"percentDone"`
	HaveValid       int64   `json:"haveValid"`
	SizeWhenDone    int64   `json:"sizeWhenDone"`
	RecheckProgress float64 `json:"recheckProgress"`
	Error           int     `json:"error"`
	ErrorString     string  `json:"errorString"`
	UploadedEver    int64   `json:"uploadedEver"`
	DownloadedEver  int64   `json:"downloadedEver"`
	PeersConnected  int     `json:"peersConnected"`
}

func (tr *transmission) get(id int) trTorrent {
	tr.t.Helper()
	var r struct {
		Torrents []trTorrent `json:"torrents"`
	}
	tr.call("torrent-get", map[string]any{"ids": []int{id}, "fields": []string{"id", "hashString", "status",
		"percentDone", "haveValid", "sizeWhenDone", "recheckProgress", "error", "errorString", "uploadedEver",
		"downloadedEver", "peersConnected"}}, &r)
	if len(r.Torrents) != 1 {
		tr.t.Fatalf("transmission torrent-get %d: %d torrents", id, len(r.Torrents))
	}
	return r.Torrents[0]
}

// waitComplete waits until transmission has verified every byte of id
// (not checking, 100%, haveValid == sizeWhenDone).
func (tr *transmission) waitComplete(id int, timeout time.Duration) trTorrent {
	tr.t.Helper()
	var s trTorrent
	waitFor(tr.t, "transmission complete", timeout, func() (bool, string) {
		if tr.proc.exited() {
			tr.t.Fatalf("transmission-daemon exited: %v", tr.proc.err)
		}
		s = tr.get(id)
		if s.Error != 0 {
			return false, "error: " + s.ErrorString
		}
		return s.Status != 1 && s.Status != 2 && s.PercentDone == 1 && s.HaveValid == s.SizeWhenDone,
			fmt.Sprintf("%+v", s)
	})
	return s
}

// verify asks transmission to re-hash id from disk and waits for the end.
func (tr *transmission) verify(id int, timeout time.Duration) trTorrent {
	tr.t.Helper()
	tr.call("torrent-verify", map[string]any{"ids": []int{id}}, nil)
	// Kept: transmission queues the check on its event thread and reports
	// nothing that tells "not begun yet" from "done" (a small torrent's
	// check may pass between two polls), so the status is read after a
	// pause. Weak: a check that has not begun reads as done.
	time.Sleep(300 * time.Millisecond)
	var s trTorrent
	waitFor(tr.t, "transmission verify", timeout, func() (bool, string) {
		s = tr.get(id)
		return s.Status != 1 && s.Status != 2, fmt.Sprintf("%+v", s)
	})
	return s
}

func (tr *transmission) remove(id int) {
	tr.t.Helper()
	tr.call("torrent-remove", map[string]any{"ids": []int{id}, "delete-local-data": false}, nil)
}

// removeAndWait removes id (keeping its data) and waits until transmission
// no longer lists it, so that the same torrent can be added again.
func (tr *transmission) removeAndWait(id int) {
	tr.t.Helper()
	tr.remove(id)
	waitFor(tr.t, "transmission torrent removed", 30*time.Second, func() (bool, string) {
		var r struct {
			Torrents []json.RawMessage `json:"torrents"`
		}
		tr.call("torrent-get", map[string]any{"ids": []int{id}, "fields": []string{"id"}}, &r)
		return len(r.Torrents) == 0, fmt.Sprintf("%d torrents listed", len(r.Torrents))
	})
}

// waitAnnounced waits until transmission has announced id to its tracker.
// Transmission 3.00 never dials loopback peers (127.0.0.0/8 counts as a
// martian address for outgoing connections) but accepts them incoming:
// a peer must learn transmission's address from the tracker and dial it,
// so the tracker must know transmission before that peer announces.
func (tr *transmission) waitAnnounced(id int, timeout time.Duration) {
	tr.t.Helper()
	waitFor(tr.t, "transmission announced", timeout, func() (bool, string) {
		var r struct {
			Torrents []struct {
				TrackerStats []struct {
					LastAnnounceSucceeded bool   `json:"lastAnnounceSucceeded"`
					LastAnnounceResult    string `json:"lastAnnounceResult"`
				} `json:"trackerStats"`
			} `json:"torrents"`
		}
		tr.call("torrent-get", map[string]any{"ids": []int{id}, "fields": []string{"trackerStats"}}, &r)
		if len(r.Torrents) != 1 || len(r.Torrents[0].TrackerStats) == 0 {
			return false, "no tracker stats"
		}
		ts := r.Torrents[0].TrackerStats[0]
		return ts.LastAnnounceSucceeded, ts.LastAnnounceResult
	})
}

// peersJSON is transmission's view of id's peers and swarm (for failure
// reports).
func (tr *transmission) peersJSON(id int) string {
	tr.t.Helper()
	var r json.RawMessage
	tr.call("torrent-get", map[string]any{"ids": []int{id}, "fields": []string{"peers", "peersFrom",
		"uploadedEver", "percentDone", "status", "trackerStats"}}, &r)
	return string(r)
}
