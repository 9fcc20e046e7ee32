package e2e

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// inetSocket is one of a process's TCP or UDP sockets, from /proc.
type inetSocket struct {
	proto  string // tcp, udp, tcp6, udp6
	local  net.IP
	port   int
	listen bool // TCP LISTEN, or an unconnected UDP socket
}

func (s inetSocket) String() string {
	return fmt.Sprintf("%s %s listen=%v", s.proto, net.JoinHostPort(s.local.String(), strconv.Itoa(s.port)), s.listen)
}

// socketsOf lists the TCP and UDP sockets process pid holds open: the
// socket inodes of its descriptors matched with /proc/pid/net/*.
func socketsOf(t testing.TB, pid int) []inetSocket {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []inetSocket
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || !inodes[fs[9]] {
				continue
			}
			ip, port := parseProcAddr(t, fs[1])
			st := fs[3]
			listen := (strings.HasPrefix(proto, "tcp") && st == "0A") || (strings.HasPrefix(proto, "udp") && st == "07")
			out = append(out, inetSocket{proto: proto, local: ip, port: port, listen: listen})
		}
		f.Close()
	}
	return out
}

// parseProcAddr decodes /proc/net's "0100007F:1F90" (IPv4 or IPv6 in
// host-order 32-bit words).
func parseProcAddr(t testing.TB, s string) (net.IP, int) {
	t.Helper()
	h, p, _ := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		t.Fatalf("bad /proc address %q", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		t.Fatalf("bad /proc address %q", s)
	}
	ip := make(net.IP, len(b))
	for w := 0; w < len(b); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = b[w+3], b[w+2], b[w+1], b[w]
	}
	return ip, int(port)
}

// dhtPing sends a DHT (BEP 5) ping query to addr over UDP and reports
// whether a KRPC response came back within wait.
func dhtPing(t testing.TB, addr string, wait time.Duration) bool {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
	deadline := time.Now().Add(wait)
	buf := make([]byte, 1500)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte(q)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if err == nil && strings.Contains(string(buf[:n]), "1:y1:r") {
			return true
		}
	}
	return false
}

// TestDaemonOpensOnlyItsLoopbackListeners: a real `archivd serve` with the
// test configuration (DHT, PEX and port forwarding off, listen_host
// 127.0.0.1) holds no TCP or UDP socket but on loopback, listens exactly on
// its BitTorrent port (TCP and uTP) and its HTTP port, and does not answer
// DHT queries. The same daemon with network.dht: true (documented as the
// opt-in to public swarms) answers them on its BitTorrent UDP port: the
// setting is honoured, and the probe can tell.
func TestDaemonOpensOnlyItsLoopbackListeners(t *testing.T) {
	t.Parallel()
	a := newInstance(t, "net", "", "")
	a.start()
	self := fmt.Sprintf("127.0.0.1:%d", a.port)
	if dhtPing(t, self, 3*time.Second) {
		t.Error("the daemon answered a DHT ping with network.dht: false")
	}
	socks := socketsOf(t, a.serve.Process.Pid)
	t.Logf("sockets of archivd serve:\n%v", socks)
	listening := map[string]bool{}
	for _, s := range socks {
		if !s.local.IsLoopback() {
			t.Errorf("socket not on loopback: %s", s)
		}
		if s.listen {
			listening[fmt.Sprintf("%s:%d", s.proto, s.port)] = true
		}
	}
	want := map[string]bool{fmt.Sprintf("tcp:%d", a.port): true, fmt.Sprintf("udp:%d", a.port): true, fmt.Sprintf("tcp:%d", a.http): true}
	for k := range want {
		if !listening[k] {
			t.Errorf("not listening on %s", k)
		}
	}
	for k := range listening {
		if !want[k] {
			t.Errorf("listening on %s, which the configuration does not name", k)
		}
	}
	a.stop()

	// DHT on: honoured, on the same loopback port (no bootstrap node is
	// reachable in the test's namespace).
	cfg := strings.Replace(string(mustRead(t, a.config)), "  dht: false\n", "  dht: true\n", 1)
	if err := os.WriteFile(a.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	a.start()
	if !dhtPing(t, self, 30*time.Second) {
		t.Error("the daemon did not answer a DHT ping with network.dht: true")
	}
	for _, s := range socketsOf(t, a.serve.Process.Pid) {
		if !s.local.IsLoopback() {
			t.Errorf("DHT on: socket not on loopback: %s", s)
		}
	}
	a.stop()
}
