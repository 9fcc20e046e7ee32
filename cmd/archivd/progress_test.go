package main

import (
	"strings"
	"testing"
)

// On a terminal, add draws a progress bar while hashing; here the "terminal"
// is a buffer, which proves the bar completes and does not block.
func TestAddDrawsProgressBarOnTerminal(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.a.stderrTTY = true
	e.createCollection(t, "c")
	dir := makeTree(t, e.root)
	mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "c", Sources: []string{dir}}))
	if s := e.stderr.String(); !strings.Contains(s, "dataset") || !strings.Contains(s, "100 %") {
		t.Fatalf("no progress bar on stderr: %q", s)
	}
	e.stderr.Reset()
	e.a.stderrTTY = false
	other := makeTree(t, t.TempDir())
	mustOK(t, runAdd(ctxT(t), e.a, addOptions{Collection: "c", Sources: []string{other}, Name: "second"}))
	if e.stderr.Len() != 0 {
		t.Fatalf("progress drawn off a terminal: %q", e.stderr)
	}
}
