package logging

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
)

// journalFile is a file standing in for the journal's stream, and the
// JOURNAL_STREAM value systemd would set for it.
func journalFile(t *testing.T) (*os.File, string) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return f, fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino)
}

var prefixed = regexp.MustCompile(`^<([0-7])>(.*)$`)

// journalLines parses what the journal would read: priority and message.
func journalLines(t *testing.T, path string) (prios []int, msgs []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := prefixed.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("line without a priority prefix: %q", sc.Text())
		}
		var ev struct{ Message string }
		if err := json.Unmarshal([]byte(m[2]), &ev); err != nil {
			t.Fatalf("not JSON after the prefix: %q", m[2])
		}
		p, _ := strconv.Atoi(m[1])
		prios, msgs = append(prios, p), append(msgs, ev.Message)
	}
	return prios, msgs
}

// Under systemd every line carries its priority, so `journalctl -p warning`
// (priority <= 4) selects exactly the warnings and errors; a level changed
// at run time reaches a logger derived before the change.
func TestJournalPrioritiesAndLiveLevel(t *testing.T) {
	f, env := journalFile(t)
	log, lvl, err := Setup("info", "auto", f, []string{"PATH=/bin", env})
	if err != nil {
		t.Fatal(err)
	}
	child := log.With().Str("component", "seeder").Logger()
	child.Debug().Msg("d1")
	child.Info().Msg("i1")
	child.Warn().Msg("w1")
	log.Error().Msg("e1")
	if err := lvl.Set("debug"); err != nil {
		t.Fatal(err)
	}
	child.Debug().Msg("d2")
	if err := lvl.Set("error"); err != nil {
		t.Fatal(err)
	}
	child.Warn().Msg("w2")
	prios, msgs := journalLines(t, f.Name())
	want := []string{"i1:6", "w1:4", "e1:3", "d2:7"}
	if len(msgs) != len(want) {
		t.Fatalf("journal got %v %v, want %v", msgs, prios, want)
	}
	var warning []string
	for i := range msgs {
		if got := fmt.Sprintf("%s:%d", msgs[i], prios[i]); got != want[i] {
			t.Errorf("line %d: %s, want %s", i, got, want[i])
		}
		if prios[i] <= 4 {
			warning = append(warning, msgs[i])
		}
	}
	if fmt.Sprint(warning) != "[w1 e1]" {
		t.Errorf("journalctl -p warning would show %v, want [w1 e1]", warning)
	}
}

// Off the journal (no JOURNAL_STREAM, or one naming another stream) lines
// are plain JSON; in console format the prefix precedes the console line.
func TestJournalPrefixOnlyForTheJournalsStream(t *testing.T) {
	f, _ := journalFile(t)
	_, env := journalFile(t)
	log, _, err := Setup("info", "json", f, []string{env})
	if err != nil {
		t.Fatal(err)
	}
	log.Warn().Msg("plain")
	b, _ := os.ReadFile(f.Name())
	if len(b) == 0 || b[0] != '{' {
		t.Fatalf("off the journal: %q", b)
	}
	g, env2 := journalFile(t)
	log, _, err = Setup("info", "console", g, []string{env2})
	if err != nil {
		t.Fatal(err)
	}
	log.Error().Msg("boom")
	b, _ = os.ReadFile(g.Name())
	if !regexp.MustCompile(`^<3>\S+ ERR boom\n$`).Match(b) {
		t.Fatalf("console on the journal: %q", b)
	}
}
