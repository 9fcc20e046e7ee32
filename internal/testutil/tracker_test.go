package testutil

import (
	"fmt"
	"testing"
	"time"
)

// TestTrackerTakesOnlyAllowedHashes: a hash not in the whitelist is
// refused; after Allow it is taken, and a seeder's announce is counted.
// The hashes hold the bytes a query encodes specially (0x20, '+', '%',
// '&'): with a 0x20 byte written as "+" the wait for such a hash timed out.
func TestTrackerTakesOnlyAllowedHashes(t *testing.T) {
	t.Parallel()
	listed, other := [20]byte{1, ' ', '+'}, [20]byte{2, ' ', '%', '&', '='}
	tr := StartTracker(t, listed)
	if ok, err := TrackerAllows(tr.URL, other); err != nil || ok {
		t.Fatalf("a hash not in the whitelist: allowed %v, %v", ok, err)
	}
	tr.Allow(t, fmt.Sprintf("%x", other))
	if n, err := TrackerSeeders(tr.URL, other); err != nil || n != 0 {
		t.Fatalf("seeders before any seeder announced: %d, %v", n, err)
	}
	seed := tr.URL + "?" + hashParam(other) +
		"&peer_id=-ARCHIVDTEST-seed000&port=2&uploaded=0&downloaded=0&left=0&event=started&compact=1"
	var r struct {
		Failure string `bencode:"failure reason"`
	}
	if err := trackerGet(seed, &r); err != nil || r.Failure != "" {
		t.Fatalf("seeder's announce: %v %q", err, r.Failure)
	}
	tr.WaitSeeders(t, other, 1, 10*time.Second)
	if n, err := TrackerSeeders(tr.URL, listed); err != nil || n != 0 {
		t.Fatalf("seeders of the listed hash (only TrackerAllows' leecher announced it): %d, %v", n, err)
	}
}
