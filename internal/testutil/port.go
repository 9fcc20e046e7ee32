package testutil

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// handedOut are the ports FreePort returned in this test process: a port
// is closed again before the caller binds it, so without this two tests
// running in parallel could be handed the same one.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// FreePort returns a port free for both TCP and UDP on host (the address
// the caller will bind: peers listen on both for uTP, and a port free on
// 127.0.0.1 may be taken on 127.0.0.2), never one it returned before in
// this process.
func FreePort(tb testing.TB, host string) int {
	tb.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 100 {
		l, err := net.Listen("tcp4", net.JoinHostPort(host, "0"))
		if err != nil {
			tb.Fatalf("find a free port on %s: %v", host, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", net.JoinHostPort(host, strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		if handedOut.ports[port] {
			continue
		}
		handedOut.ports[port] = true
		return port
	}
	tb.Fatalf("find a free port on %s: none free for both TCP and UDP after 100 tries", host)
	return 0
}
