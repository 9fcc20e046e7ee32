package verify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/pgtest"
	"github.com/archivd/archivd/internal/testutil"
	"github.com/archivd/archivd/internal/verify/clock"
	"github.com/archivd/archivd/internal/verify/scrub"
)

// countingOpener counts the bytes the scrubber reads from disk.
func countingOpener(n *atomic.Int64) scrub.OpenerFunc {
	return func(dir string) (scrub.Opener, error) {
		o, err := scrub.DirOpener(dir)
		return countOpener{o, n}, err
	}
}

type countOpener struct {
	scrub.Opener
	n *atomic.Int64
}

type countReader struct {
	scrub.Reader
	n *atomic.Int64
}

func (o countOpener) Open(rel string) (scrub.Reader, error) {
	r, err := o.Opener.Open(rel)
	if err != nil {
		return nil, err
	}
	return countReader{r, o.n}, nil
}

func (r countReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(b, off)
	r.n.Add(int64(n))
	return n, err
}

func TestOfflineRunKilledMidRangeResumesRereadingAtMostOneRange(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := context.Background()
	db := pgtest.Open(t, url)
	const rangeBytes = 256 << 10
	fx := addTorrent(t, db, t.TempDir(), "big", 16<<10, 1<<20, 1<<20) // 2 MiB, 8 ranges
	// The child reads at 512 KiB/s: 4 s for everything, 0.5 s per range.
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+url, "ARCHIVD_VERIFY_TEST_RATE=524288",
		fmt.Sprintf("ARCHIVD_VERIFY_TEST_RANGE=%d", rangeBytes))
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := func() int64 {
		return pgtest.Int(t, db, `SELECT count(*) FROM verify_jobs WHERE state = 'done'`)
	}
	t.Cleanup(func() { _ = child.Process.Kill() })
	testutil.Eventually(t, 30*time.Second, "the child's first 3 ranges done", func() bool { return done() >= 3 })
	// Into the next range: the child has claimed it (its progress is
	// recorded only when a range is done, so the kill lands somewhere in
	// its first half second).
	testutil.Eventually(t, 30*time.Second, "the child into its 4th range", func() bool {
		return pgtest.Int(t, db, `SELECT count(*) FROM verify_jobs WHERE state = 'running'`) >= 1
	})
	if err := child.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	before, err := db.VerifyRunByID(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if before.State != "running" || before.BytesHashed == 0 || before.BytesHashed >= fx.T.TotalLength {
		t.Fatalf("child run after kill: %+v", before)
	}
	// The child's lease (1 min) is still running in real time: this
	// process looks at it from 2 minutes later instead of waiting.
	var read atomic.Int64
	cfg := testConfig(t)
	cfg.NodeID = "child" // the node restarts: its own unfinished run is resumed
	cfg.RangeBytes, cfg.Clock, cfg.Open = rangeBytes, clock.Offset{By: 2 * time.Minute}, countingOpener(&read)
	runID, err := RunOffline(ctx, db, cfg, Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := db.VerifyRunByID(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	left := fx.T.TotalLength - before.BytesHashed
	t.Logf("child committed %d bytes; resumed run read %d; range %d", before.BytesHashed, read.Load(), rangeBytes)
	if runID != before.ID || after.State != "done" || after.BytesHashed != fx.T.TotalLength {
		t.Fatalf("resumed run %+v, want run %d done with %d bytes", after, before.ID, fx.T.TotalLength)
	}
	// Everything not committed is read once: the interrupted range (read
	// partly by the child) is the only data read twice.
	if read.Load() != left || left > fx.T.TotalLength-3*rangeBytes {
		t.Fatalf("resume read %d bytes, want exactly the %d not committed", read.Load(), left)
	}
	if retried := pgtest.Int(t, db, `SELECT count(*) FROM verify_jobs WHERE run_id = $1 AND attempts > 1`, runID); retried > 1 {
		t.Fatalf("%d ranges were claimed twice, want at most 1", retried)
	}
}
