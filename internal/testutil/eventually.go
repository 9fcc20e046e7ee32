// Package testutil is what tests of several packages share: the one way
// to wait for a condition, and builders of test data.
package testutil

import (
	"testing"
	"time"
)

// poll is how often Eventually checks: short enough not to slow tests,
// long enough not to spin on a shared machine.
const poll = 10 * time.Millisecond

// Eventually waits until cond holds, checking every few milliseconds, and
// fails t naming what was awaited if timeout passes first. Prefer a
// signal (a channel, a Ready method, a fake clock's waiters) when the code
// offers one; this is for state only visible by looking.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(poll)
	}
}
