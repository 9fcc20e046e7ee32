package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyOfflineFindsFlippedByteAndReportRendersEveryFormat(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	dir := e.addTree(t, "16KiB")

	// Clean data: a run with nothing to report exits 0.
	e.stdout.Reset()
	mustOK(t, runVerify(ctx, e.a, verifyOptions{Offline: true}, nil))
	if !strings.Contains(e.stdout.String(), "0 failed") {
		t.Fatalf("clean run output: %s", e.stdout)
	}

	// Flip one byte in the middle of deep.txt (pieces of 16 KiB).
	p := filepath.Join(dir, "a", "b", "deep.txt")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[50000] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = runVerify(ctx, e.a, verifyOptions{Offline: true, Collections: []string{"c"}}, nil)
	if err == nil || exitCode(err) != exitDamage || !strings.Contains(errorLine(err), "1 damaged pieces not repaired") {
		t.Fatalf("damaged run: err=%v code=%d", err, exitCode(err))
	}

	for _, f := range []string{"table", "json", "csv", "markdown", "html"} {
		e.stdout.Reset()
		mustOK(t, runReport(ctx, e.a, reportOptions{Format: f}, "latest"))
		out := e.stdout.String()
		if !strings.Contains(out, "hash_mismatch") || !strings.Contains(out, "deep.txt") {
			t.Errorf("report --format %s lacks the finding:\n%s", f, out)
		}
	}
	e.stdout.Reset()
	mustOK(t, runReport(ctx, e.a, reportOptions{Format: "json"}, "latest"))
	var rep struct {
		Findings []struct {
			Piece int    `json:"piece"`
			Kind  string `json:"kind"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(e.stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	// deep.txt starts after top.bin (40000 bytes) in path order "a/b/deep.txt" < "top.bin":
	// it is the first file, so byte 50000 is in piece 50000/16384 = 3.
	if len(rep.Findings) != 1 || rep.Findings[0].Piece != 3 || rep.Findings[0].Kind != "hash_mismatch" {
		t.Fatalf("findings = %+v, want one hash_mismatch at piece 3", rep.Findings)
	}
	wantErr(t, runReport(ctx, e.a, reportOptions{Format: "pdf"}, "latest"), exitUsage,
		`archivd: report: --format "pdf" is not one of table, json, csv, markdown, html`)
}

// `verify --wait` with a name that is wrong says so (exit 3, naming it)
// even when no daemon runs: that is the mistake to fix first. With a
// right name and no daemon, the daemon is what is missing. Neither
// queues a run.
func TestVerifyWaitNamesAnUnknownTorrentBeforeTheMissingDaemon(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := ctxT(t)
	dir := e.addTree(t, "16KiB")

	err := runVerify(ctx, e.a, verifyOptions{Wait: true}, []string{"nosuch"})
	if exitCode(err) != exitNotFound || !strings.Contains(errorLine(err), `torrent "nosuch": not found`) {
		t.Fatalf("verify --wait nosuch: code %d, %q", exitCode(err), errorLine(err))
	}
	err = runVerify(ctx, e.a, verifyOptions{Wait: true, Collections: []string{"nosuch"}}, nil)
	if exitCode(err) != exitNotFound || !strings.Contains(errorLine(err), `collection "nosuch": not found`) {
		t.Fatalf("verify --wait -c nosuch: code %d, %q", exitCode(err), errorLine(err))
	}
	err = runVerify(ctx, e.a, verifyOptions{Wait: true}, []string{filepath.Base(dir)})
	if exitCode(err) != exitFailure || !strings.Contains(errorLine(err), "no archivd serve is running") {
		t.Fatalf("verify --wait with no daemon: code %d, %q", exitCode(err), errorLine(err))
	}
	if err := runReport(ctx, e.a, reportOptions{Format: "table"}, "latest"); exitCode(err) != exitNotFound {
		t.Fatalf("a run was queued: report latest: code %d, %v", exitCode(err), err)
	}
}
