package heartbeat

import (
	"slices"
	"testing"
	"time"
)

func TestOnlyLoopsWorkingPastTheirBoundAreStale(t *testing.T) {
	t.Parallel()
	m := New()
	waiting := m.Register("waiting", time.Second)
	busy := m.Register("busy", time.Second)
	fresh := m.Register("fresh", time.Minute)
	waiting.Beat()
	waiting.Wait()
	busy.Beat()
	fresh.Beat()
	if got := m.Stale(time.Now().Add(2 * time.Second)); !slices.Equal(got, []string{"busy"}) {
		t.Fatalf("stale = %v, want [busy]", got)
	}
	busy.Wait()
	if got := m.Stale(time.Now().Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("stale after Wait = %v", got)
	}
	var none *Monitor
	none.Register("x", time.Second).Beat() // nil-safe
	if none.Stale(time.Now()) != nil {
		t.Fatal("nil monitor has stale loops")
	}
}
