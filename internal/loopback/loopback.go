// Package loopback is the one rule for "this address binds only loopback",
// shared by config validation and the HTTP server so they cannot disagree.
package loopback

import (
	"fmt"
	"net"
	"strings"
)

// Host reports whether host is a loopback host: an IP in 127.0.0.0/8 or
// ::1, or "localhost" in any case. Other names count as non-loopback:
// what they resolve to may change. An empty host binds every interface.
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen reports whether listen (host:port) binds only loopback.
func Listen(listen string) (bool, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false, fmt.Errorf("%q: want host:port: %w", listen, err)
	}
	return Host(host), nil
}
