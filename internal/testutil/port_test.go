package testutil

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortBindsOnItsHostAndIsNeverHandedOutTwice: every port returned
// for 127.0.0.2 binds there for TCP and UDP, and no port is returned twice
// (parallel tests each get their own).
func TestFreePortBindsOnItsHostAndIsNeverHandedOutTwice(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for range 200 {
		p := FreePort(t, "127.0.0.2")
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		addr := net.JoinHostPort("127.0.0.2", strconv.Itoa(p))
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			t.Fatalf("bind TCP %s: %v", addr, err)
		}
		u, err := net.ListenPacket("udp4", addr)
		l.Close()
		if err != nil {
			t.Fatalf("bind UDP %s: %v", addr, err)
		}
		u.Close()
	}
}
