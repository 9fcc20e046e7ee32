package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
)

// A reload's new token file takes over from the next request; a bad one
// is refused and the old token kept; on loopback "" turns auth off.
func TestSetTokenFileChangesTheTokenLive(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	seed(t, db)
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}, TokenFile: writeFile(t, "old", "old-token\n")})
	url := "http://" + s.Addr() + "/metrics"
	want := func(tok string, code int) {
		t.Helper()
		if got, _ := get(t, nil, url, tok); got != code {
			t.Errorf("token %q: %d, want %d", tok, got, code)
		}
	}
	want("old-token", http.StatusOK)
	if err := s.SetTokenFile(writeFile(t, "new", "new-token\n")); err != nil {
		t.Fatal(err)
	}
	want("old-token", http.StatusUnauthorized)
	want("new-token", http.StatusOK)
	if err := s.SetTokenFile(writeFile(t, "empty", "\n")); err == nil {
		t.Error("an empty token file was accepted")
	}
	want("new-token", http.StatusOK)
	if err := s.SetTokenFile(""); err != nil {
		t.Fatal(err)
	}
	want("", http.StatusOK)
}
