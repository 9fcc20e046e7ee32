package config

import (
	"net"
	"regexp"
	"strconv"
)

// NodeConfig is what this node tells the other nodes of a shared catalog
// about itself (the catalog's nodes row), written at every heartbeat.
type NodeConfig struct {
	Name string `key:"name"` // shown to operators; "" = the hostname
	// Zone is the failure domain (rack, room, site): replicas spread across
	// zones first. "" = none.
	Zone string   `key:"zone"`
	Tags []string `key:"tags"` // free labels for placement ("ssd", "rack=r4")
	// AdvertiseAddress is the BitTorrent host:port the other nodes dial;
	// "" = the engine's listen address (with announce_ip, or the hostname,
	// in place of an unspecified host such as 0.0.0.0).
	AdvertiseAddress string `key:"advertise_address"`
}

var (
	nodeZoneRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	nodeTagRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:=/-]{0,127}$`)
	nodeNameRe = regexp.MustCompile(`^[[:graph:]]([[:graph:] ]{0,126}[[:graph:]])?$`)
)

func (c *Config) validateNode() error {
	n := c.Node
	if n.Name != "" && !nodeNameRe.MatchString(n.Name) {
		return errorf("node.name: %q is not a node name (printable ASCII, no leading or trailing space; at most 128)", n.Name)
	}
	if n.Zone != "" && !nodeZoneRe.MatchString(n.Zone) {
		return errorf("node.zone: %q is not a zone (letters, digits, '.', '_', '-'; at most 64)", n.Zone)
	}
	seen := map[string]bool{}
	for _, t := range n.Tags {
		if !nodeTagRe.MatchString(t) {
			return errorf("node.tags: %q is not a tag (letters, digits, '.', '_', ':', '=', '/', '-'; at most 128)", t)
		}
		if seen[t] {
			return errorf("node.tags: %q is listed twice", t)
		}
		seen[t] = true
	}
	if a := n.AdvertiseAddress; a != "" {
		host, port, err := net.SplitHostPort(a)
		p, perr := strconv.Atoi(port)
		switch {
		case err != nil || host == "":
			return errorf("node.advertise_address: %q is not host:port", a)
		case perr != nil || p < 1 || p > 65535:
			return errorf("node.advertise_address: %q: port %q is not 1-65535", a, port)
		case net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified():
			return errorf("node.advertise_address: %q: %s is not an address another node can dial", a, host)
		}
	}
	return nil
}
