package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestAutoIsJSONOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	log, err := New("info", "auto", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Msg("hidden")
	log.Info().Str("k", "v").Msg("hello")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if m["message"] != "hello" || m["k"] != "v" || m["level"] != "info" || m["time"] == nil {
		t.Fatalf("got %v", m)
	}
}

func TestConsoleFormat(t *testing.T) {
	var buf bytes.Buffer
	log, err := New("debug", "console", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Msg("hello")
	if s := buf.String(); !strings.Contains(s, "DBG") || !strings.Contains(s, "hello") || strings.HasPrefix(s, "{") {
		t.Fatalf("got %q", s)
	}
}

func TestBadLevelAndFormat(t *testing.T) {
	if _, err := New("loud", "json", os.Stderr); err == nil || err.Error() != `logging: level "loud" is not one of trace, debug, info, warn, error` {
		t.Fatalf("got %v", err)
	}
	if _, err := New("info", "xml", os.Stderr); err == nil || err.Error() != `logging: format "xml" is not one of auto, json, console` {
		t.Fatalf("got %v", err)
	}
}

func TestIsTerminalFalseForPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) || IsTerminal(&bytes.Buffer{}) {
		t.Fatal("pipe or buffer reported as terminal")
	}
}
