package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/health"
	"github.com/archivd/archivd/internal/testutil"
)

// nodeConfig writes the config of one serve process of h's catalog.
func (h *healthEnv) nodeConfig(t *testing.T, id, host, zone string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), id+".yaml")
	writeFile(t, p, fmt.Sprintf("database:\n  url: %q\nstate_dir: %s\ndata_dir: %s\nnode_id: %s\n"+
		"node:\n  zone: %s\n  tags: [ssd]\nnetwork:\n  listen_host: %s\n  listen_port: 0\nhttp:\n  listen: \"\"\n"+
		"verify:\n  schedules: [\"0 0 1 1 *\"]\n  max_run: 1m\n", h.url, t.TempDir(), t.TempDir(), id, zone, host))
	return p
}

func (h *healthEnv) nodes(t *testing.T) map[string]catalog.Node {
	t.Helper()
	code, out := h.cli(t, "node", "list", "--json")
	var ns []catalog.Node
	if err := json.Unmarshal([]byte(out), &ns); code != 0 || err != nil {
		t.Fatalf("node list --json: exit %d: %v: %s", code, err, out)
	}
	m := map[string]catalog.Node{}
	for _, n := range ns {
		m[n.ID] = n
	}
	return m
}

// wantCLIError runs args, wants exit code and one stderr line containing
// each of parts, and returns that line.
func (h *healthEnv) wantCLIError(t *testing.T, code int, args []string, parts ...string) string {
	t.Helper()
	c, out, errs := runCLI(append([]string{"--config", h.cfgFile}, args...)...)
	line := strings.TrimSpace(errs)
	if c != code || strings.Count(line, "\n") != 0 || out != "" {
		t.Fatalf("%v: exit %d (want %d), stdout %q, stderr %q", args, c, code, out, errs)
	}
	for _, p := range parts {
		if !strings.Contains(line, p) {
			t.Fatalf("%v: %q does not say %q", args, line, p)
		}
	}
	return line
}

// runHinted runs the archivd command quoted in a message after "marker"
// up to the end of the line and wants success.
func runHinted(t *testing.T, msg, marker string) string {
	t.Helper()
	_, cmdline, ok := strings.Cut(msg, marker)
	if !ok {
		t.Fatalf("no %q in %q", marker, msg)
	}
	cmdline = strings.TrimRight(strings.TrimSpace(cmdline), ")")
	args := strings.Fields(cmdline)
	if args[0] != "archivd" {
		t.Fatalf("hint %q is not an archivd command", cmdline)
	}
	code, out, errs := runCLI(args[1:]...)
	if code != 0 {
		t.Fatalf("hinted %q: exit %d: %s %s", cmdline, code, out, errs)
	}
	return out
}

// TestNodeAndFleetCommandsWithRealDaemons: two real serve processes on one
// catalog register as nodes (zone, tags, BitTorrent address); drain,
// maintenance and their ways out; wrong input is one line, a non-zero exit
// and no change, and every command a message prints works; a SIGKILLed
// node is down within the 30 s lease and can then be forgotten; a fleet
// flag shows in 'archivd health' until its printed command unsets it.
func TestNodeAndFleetCommandsWithRealDaemons(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	bin := archivdBinary(t)
	startServe(t, bin, h.nodeConfig(t, "n1", "127.0.0.1", "z1"))
	n2 := startServe(t, bin, h.nodeConfig(t, "n2", "127.0.0.2", "z2"))
	var ns map[string]catalog.Node
	testutil.Eventually(t, 30*time.Second, "both nodes registered with their data roots", func() bool {
		ns = h.nodes(t)
		return len(ns) == 2 && len(ns["n1"].Roots) > 0 && len(ns["n2"].Roots) > 0
	})
	for id, zone := range map[string]string{"n1": "z1", "n2": "z2"} {
		n := ns[id]
		if !n.Up || n.Zone != zone || len(n.Tags) != 1 || n.Tags[0] != "ssd" || n.Admin != catalog.NodeActive ||
			n.CapacityBytes <= 0 || n.Version == "" {
			t.Fatalf("node %s: %+v", id, n)
		}
	}
	if !strings.HasPrefix(ns["n2"].BTAddr, "127.0.0.2:") || !strings.HasPrefix(ns["n1"].BTAddr, "127.0.0.1:") {
		t.Fatalf("BitTorrent addresses: %s %s", ns["n1"].BTAddr, ns["n2"].BTAddr)
	}
	if code, out := h.cli(t, "node", "show", "n1"); code != 0 || !strings.Contains(out, "zone:        z1") || !strings.Contains(out, "status:      up") {
		t.Fatalf("node show n1: exit %d: %s", code, out)
	}
	if code, out := h.cli(t, "node", "list"); code != 0 || !strings.Contains(out, "n2") || !strings.Contains(out, "127.0.0.2:") {
		t.Fatalf("node list: exit %d: %s", code, out)
	}

	// Unknown node: exit 3, the printed command lists the nodes.
	line := h.wantCLIError(t, exitNotFound, []string{"node", "drain", "nope"}, `node "nope"`, "not found")
	runHinted(t, line, "the nodes there are: ")

	// Drain, then maintenance is refused naming the way out of draining.
	if code, out := h.cli(t, "node", "drain", "n1", "--reason", "retire"); code != 0 || !strings.Contains(out, "draining") {
		t.Fatalf("drain: exit %d: %s", code, out)
	}
	if code, out := h.cli(t, "node", "drain", "n1"); code != 0 || !strings.Contains(out, "already draining") {
		t.Fatalf("drain again: exit %d: %s", code, out)
	}
	line = h.wantCLIError(t, exitConflict, []string{"node", "maintenance", "n1"}, "n1 is draining, not active")
	if n := h.nodes(t)["n1"]; n.Admin != catalog.NodeDraining || n.AdminReason != "retire" {
		t.Fatalf("refused maintenance changed n1: %+v", n)
	}
	runHinted(t, line, "end that first: ")
	if n := h.nodes(t)["n1"]; n.Admin != catalog.NodeActive {
		t.Fatalf("after the printed undrain: %+v", n)
	}
	// Maintenance, and undrain is refused naming maintenance --off.
	if code, out := h.cli(t, "node", "maintenance", "n1", "--reason", "disk swap"); code != 0 || !strings.Contains(out, "maintenance") {
		t.Fatalf("maintenance: exit %d: %s", code, out)
	}
	line = h.wantCLIError(t, exitConflict, []string{"node", "undrain", "n1"}, "n1 is maintenance, not draining")
	runHinted(t, line, "end that first: ")
	if n := h.nodes(t)["n1"]; n.Admin != catalog.NodeActive {
		t.Fatalf("after the printed maintenance --off: %+v", n)
	}
	h.wantCLIError(t, exitUsage, []string{"node", "maintenance", "--off", "--reason", "x", "n1"}, "--reason")
	h.wantCLIError(t, exitUsage, []string{"node", "drain"}, "want a NODE id")

	// Forget refuses an up node; SIGKILL it: down within the lease, then forgotten.
	h.wantCLIError(t, exitConflict, []string{"node", "forget", "n2"}, "n2 is up", "stop its archivd serve first")
	if len(h.nodes(t)) != 2 {
		t.Fatal("refused forget removed a node")
	}
	if err := n2.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-n2.done
	testutil.Eventually(t, 2*catalog.NodeUpTTL, "n2 down after SIGKILL", func() bool { return !h.nodes(t)["n2"].Up })
	t.Logf("n2 down %.1fs after SIGKILL (lease %s)", time.Since(killed).Seconds(), catalog.NodeUpTTL)
	if code, out := h.cli(t, "fleet", "status"); code != 0 || !strings.Contains(out, "2: 1 up, 1 down") || !strings.Contains(out, "down:   n2") ||
		!strings.Contains(out, "recovery: no replica placed by the planner is fetching") ||
		!strings.Contains(out, "balance:  0 moves in flight; margin 0.1") || !strings.Contains(out, "  n1: ") || strings.Contains(out, "  n2: ") {
		t.Fatalf("fleet status: exit %d: %s", code, out)
	}
	if code, out := h.cli(t, "node", "forget", "n2"); code != 0 || !strings.Contains(out, "forgotten") {
		t.Fatalf("forget: exit %d: %s", code, out)
	}
	if ns := h.nodes(t); len(ns) != 1 || !ns["n1"].Up {
		t.Fatalf("after forget: %+v", ns)
	}

	// Fleet flags: a bad one changes nothing; noscrub shows in health
	// until the printed command unsets it.
	h.wantCLIError(t, exitUsage, []string{"fleet", "set", "nodown"}, `"nodown" is not a fleet flag`, "noscrub")
	mustClear(t, h.health(t), health.FleetFlagsSet)
	if code, out := h.cli(t, "fleet", "set", "noscrub", "--reason", "disk swap"); code != 0 || !strings.Contains(out, "noscrub: set") {
		t.Fatalf("fleet set: exit %d: %s", code, out)
	}
	var st fleetStatus
	if code, out := h.cli(t, "fleet", "status", "--json"); code != 0 || json.Unmarshal([]byte(out), &st) != nil ||
		len(st.Flags) != 1 || st.Flags[0].Flag != catalog.FlagNoScrub || st.Nodes.Up != 1 ||
		len(st.Balance.Nodes) != 1 || st.Balance.Nodes[0].Node != "n1" || st.Balance.Margin != 0.1 {
		t.Fatalf("fleet status --json: exit %d: %s", code, out)
	}
	c := mustRaise(t, h.health(t), health.FleetFlagsSet, health.Warn, "noscrub", "disk swap")
	h.runSuggested(t, c)
	mustClear(t, h.health(t), health.FleetFlagsSet)
	if code, out := h.cli(t, "fleet", "unset", "noscrub"); code != 0 || !strings.Contains(out, "was not set") {
		t.Fatalf("unset twice: exit %d: %s", code, out)
	}
}
