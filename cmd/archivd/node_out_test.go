package main

import (
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
)

// node out / node in: an operator's out survives the node's restart and
// is ended by node in; node show and fleet status say what a draining node
// still holds; wrong input is one line, a non-zero exit and no change.
func TestNodeOutAndIn(t *testing.T) {
	t.Parallel()
	h := newHealthEnv(t, "")
	ctx := ctxT(t)
	for _, id := range []string{"n1", "n2"} {
		if _, err := h.db.StartNode(ctx, id, "h"); err != nil {
			t.Fatal(err)
		}
	}
	if code, out := h.cli(t, "node", "out", "n1", "--reason", "disk check"); code != 0 || !strings.Contains(out, "node n1: out") {
		t.Fatalf("node out: exit %d: %s", code, out)
	}
	n := h.nodes(t)["n1"]
	if !n.Out || n.OutAuto || n.OutReason != "disk check" {
		t.Fatalf("n1 after node out: %+v", n)
	}
	if code, out := h.cli(t, "node", "out", "n1"); code != 0 || !strings.Contains(out, "already out (way out: archivd") {
		t.Fatalf("node out again: exit %d: %s", code, out)
	} else {
		runHinted(t, strings.TrimSuffix(strings.TrimSpace(out), ")"), "(way out: ")
		if h.nodes(t)["n1"].Out {
			t.Fatal("the printed way out left n1 out")
		}
		if code, out := h.cli(t, "node", "out", "n1", "--reason", "disk check"); code != 0 {
			t.Fatalf("node out: exit %d: %s", code, out)
		}
	}
	if h.nodes(t)["n1"].OutReason != "disk check" {
		t.Fatal("node out again changed the reason")
	}
	// An operator's out is not undone by the node starting.
	if _, err := h.db.StartNode(ctx, "n1", "h"); err != nil {
		t.Fatal(err)
	}
	if code, out := h.cli(t, "node", "show", "n1"); code != 0 || !strings.Contains(out, "status:      up, out") ||
		!strings.Contains(out, "disk check") || !strings.Contains(out, "replicas:    0") {
		t.Fatalf("node show n1: exit %d: %s", code, out)
	}

	// Bad input: one line, non-zero exit, nothing changed.
	h.wantCLIError(t, exitNotFound, []string{"node", "out", "nope"}, `node "nope"`, "not found", "node list")
	h.wantCLIError(t, exitNotFound, []string{"node", "in", "nope"}, `node "nope"`, "not found")
	h.wantCLIError(t, exitUsage, []string{"node", "in"}, "want a NODE id")
	h.wantCLIError(t, exitUsage, []string{"node", "out", "n1", "n2"}, "a NODE id")
	h.wantCLIError(t, exitUsage, []string{"node", "in", "--reason", "x", "n1"}, "--reason")
	ns := h.nodes(t)
	if !ns["n1"].Out || ns["n2"].Out || len(ns) != 2 {
		t.Fatalf("refused commands changed the nodes: %+v", ns)
	}

	if code, out := h.cli(t, "node", "in", "n1"); code != 0 || !strings.Contains(out, "node n1: in") {
		t.Fatalf("node in: exit %d: %s", code, out)
	}
	if n := h.nodes(t)["n1"]; n.Out || n.OutReason != "" {
		t.Fatalf("n1 after node in: %+v", n)
	}
	if code, out := h.cli(t, "node", "in", "n1"); code != 0 || !strings.Contains(out, "already in") {
		t.Fatalf("node in again: exit %d: %s", code, out)
	}

	// A draining node: fleet status and node show say what is left on it.
	if _, err := h.db.SetNodeAdmin(ctx, "n2", catalog.NodeActive, catalog.NodeDraining, "retire"); err != nil {
		t.Fatal(err)
	}
	if code, out := h.cli(t, "fleet", "status"); code != 0 || !strings.Contains(out, "draining: n2: replicas 0 left to move off: drained") {
		t.Fatalf("fleet status: exit %d: %s", code, out)
	}
}
