package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
)

// TestDebugPprofOnlyWhenConfiguredAndBehindTheToken: http.debug_pprof off
// (the default) serves no profile; on, the goroutine profile is served,
// to the token's holder only.
func TestDebugPprofOnlyWhenConfiguredAndBehindTheToken(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	off := start(t, httpapi.Options{DB: db, Live: &fixedLive{}})
	if code, _ := get(t, nil, "http://"+off.Addr()+"/debug/pprof/goroutine?debug=1", ""); code != http.StatusNotFound {
		t.Errorf("debug_pprof off: /debug/pprof/goroutine answered %d, want 404", code)
	}
	tok := writeFile(t, "token", "pp-token\n")
	on := start(t, httpapi.Options{DB: db, Live: &fixedLive{}, DebugPprof: true, TokenFile: tok, RequireToken: true})
	url := "http://" + on.Addr() + "/debug/pprof/goroutine?debug=1"
	if code, _ := get(t, nil, url, ""); code != http.StatusUnauthorized {
		t.Errorf("debug_pprof on, no token: %d, want 401", code)
	}
	code, body := get(t, nil, url, "pp-token")
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("debug_pprof on, with the token: %d %.200s, want 200 and a goroutine profile", code, body)
	}
}
