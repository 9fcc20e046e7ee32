package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/testutil"
)

// TestFileCutShortWhileSeedingIsVerifiedAtOnce: a file of the dataset A
// seeds is cut short while B downloads it (an operator's mistake, a disk
// going bad). A does not go on "seeding" data it no longer has until the
// next scheduled scrub: the first read for B that fails queues a verify
// run of the torrent (kind read_error; the log names `archivd report N`),
// which finds the file short and records its pieces bad. With the file
// put back, the command the health check names (`archivd verify
// INFOHASH`) clears the damage, and B completes bit-identical.
func TestFileCutShortWhileSeedingIsVerifiedAtOnce(t *testing.T) {
	t.Parallel()
	a, b, src := downloadingPair(t)
	victim := filepath.Join(src, "c", "tail.bin")
	orig, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(victim, 1<<20); err != nil {
		t.Fatal(err)
	}

	queued := regexp.MustCompile(`verify run (\d+) of the torrent queued \(see 'archivd report (\d+)'\)`)
	var run string
	testutil.Eventually(t, 2*time.Minute, "A queues a verify run after a read for B fails", func() bool {
		m := queued.FindStringSubmatch(a.log.String())
		if m == nil {
			return false
		}
		run = m[2]
		return true
	})
	var rep reportJSON
	testutil.Eventually(t, 2*time.Minute, "A's read_error run "+run+" done, the short file's pieces bad", func() bool {
		if err := json.Unmarshal([]byte(a.cli(0, "report", run, "--format", "json")), &rep); err != nil {
			t.Fatalf("report json: %v", err)
		}
		return rep.Run.State == "done"
	})
	short := 0
	for _, f := range rep.Findings {
		if f.Kind == "short_file" {
			short++
		}
	}
	if rep.Run.Kind != "read_error" || rep.Run.PiecesFailed == 0 || short == 0 {
		t.Fatalf("run %s: %+v, want a read_error run with failed pieces and short_file findings", run, rep)
	}
	t.Logf("run %s: %d pieces checked, %d failed, %d short_file findings", run, rep.Run.PiecesChecked, rep.Run.PiecesFailed, short)

	// The way back: the file put back, then the health check's command.
	if err := os.WriteFile(victim, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	var tj availJSON
	a.cliJSON(&tj, "show", "dataset")
	testutil.Eventually(t, 2*time.Minute, "A's damage cleared by `archivd verify "+tj.InfoHash+"`", func() bool {
		out, _, code := a.run("health")
		if code == 0 {
			return true
		}
		if !regexp.MustCompile(`archivd --config \S+ verify ` + tj.InfoHash).MatchString(out) {
			t.Fatalf("A's health does not name the verify command:\n%s", out)
		}
		_, _, _ = a.run("verify", "--wait", tj.InfoHash)
		return false
	})
	waitCompleteAndSame(t, b, src, filepath.Join(b.dir, "data", "dataset"))
	a.stop()
	b.stop()
}
