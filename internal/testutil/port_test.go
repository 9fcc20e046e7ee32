package testutil

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortBindsOnItsHostAndIsNeverHandedOutTwice: no port is returned
// twice (parallel tests each get their own), and the ports returned for
// 127.0.0.2 bind there for TCP and UDP. Other test processes run beside
// this one (go test runs packages in parallel) and take ephemeral ports
// between FreePort's probe and our bind: a few of 200 binds may lose that
// race (seen once in CI); a FreePort that did not probe at all would
// still pass, but one that returned ports taken on the host would not.
func TestFreePortBindsOnItsHostAndIsNeverHandedOutTwice(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	var lost []string
	for range 200 {
		p := FreePort(t, "127.0.0.2")
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		addr := net.JoinHostPort("127.0.0.2", strconv.Itoa(p))
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			lost = append(lost, "TCP "+err.Error())
			continue
		}
		u, err := net.ListenPacket("udp4", addr)
		l.Close()
		if err != nil {
			lost = append(lost, "UDP "+err.Error())
			continue
		}
		u.Close()
	}
	if len(lost) > 3 {
		t.Fatalf("%d of 200 ports did not bind on 127.0.0.2: %v", len(lost), lost)
	}
}
