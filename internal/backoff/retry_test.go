package backoff

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestRetryLogsOncePerStateChange(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := Retry{Backoff: Backoff{Min: time.Millisecond, Max: 8 * time.Millisecond}, Log: zerolog.New(&buf), What: "thing"}
	for range 50 {
		if w := r.Fail(errors.New("down")); w > 8*time.Millisecond {
			t.Fatalf("wait %v over Max", w)
		}
	}
	if !r.Down() {
		t.Fatal("not down after failures")
	}
	r.OK()
	r.OK()
	r.Fail(errors.New("again"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "thing failed") || !strings.Contains(lines[1], `"outage_ms"`) ||
		!strings.Contains(lines[2], "again") {
		t.Fatalf("log lines:\n%s", buf.String())
	}
}
