package e2e

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sdNotify listens where systemd would (NOTIFY_SOCKET, a unixgram socket)
// and records every state a daemon sends with the time it arrived: the
// test sees the WATCHDOG=1 pings exactly as systemd would.
type sdNotify struct {
	path string
	conn *net.UnixConn

	mu   sync.Mutex
	msgs []sdMsg
}

type sdMsg struct {
	at    time.Time
	state string
}

func listenNotify(t testing.TB) *sdNotify {
	t.Helper()
	n := &sdNotify{path: filepath.Join(t.TempDir(), "notify.sock")}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n.conn = c
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, _, err := c.ReadFromUnix(buf)
			if err != nil {
				return // closed at cleanup
			}
			now := time.Now()
			n.mu.Lock()
			for _, s := range strings.Split(strings.TrimSpace(string(buf[:k])), "\n") {
				n.msgs = append(n.msgs, sdMsg{now, s})
			}
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return n
}

// env is what systemd puts in a service's environment with
// WatchdogSec=watchdog.
func (n *sdNotify) env(watchdog time.Duration) []string {
	return []string{"NOTIFY_SOCKET=" + n.path, "WATCHDOG_USEC=" + strconv.FormatInt(watchdog.Microseconds(), 10)}
}

// times returns when each message equal to state arrived.
func (n *sdNotify) times(state string) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []time.Time
	for _, m := range n.msgs {
		if m.state == state {
			out = append(out, m.at)
		}
	}
	return out
}

// longestGap is the longest time between consecutive pings in ts and
// between the last one and end: how long systemd would have waited.
func longestGap(ts []time.Time, end time.Time) (gap time.Duration, at time.Time) {
	for i := 1; i <= len(ts); i++ {
		next := end
		if i < len(ts) {
			next = ts[i]
		}
		if d := next.Sub(ts[i-1]); d > gap {
			gap, at = d, ts[i-1]
		}
	}
	return gap, at
}
