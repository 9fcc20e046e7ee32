package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// withAuth requires "Authorization: Bearer <token>" on every path but
// /healthz when a token is configured.
// The token is looked up per request: SetTokenFile may change it.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token.Load() == nil || r.URL.Path == "/healthz" || s.authorized(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="archivd"`)
		http.Error(w, "unauthorized: send Authorization: Bearer <token from http.token_file>", http.StatusUnauthorized)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	return subtle.ConstantTimeCompare(sum[:], *s.token.Load()) == 1
}

// SetTokenFile reads the bearer token from path and uses it for the
// following requests (configuration reload). "" turns authentication off
// where no token is required (loopback); an unreadable or empty file, or
// no file where one is required, is refused and the old token kept.
func (s *Server) SetTokenFile(path string) error {
	tok, err := readToken(path, s.o.RequireToken)
	if err != nil {
		return err
	}
	s.setToken(tok)
	return nil
}

func (s *Server) setToken(tok []byte) {
	if tok == nil {
		s.token.Store(nil)
		return
	}
	s.token.Store(&tok)
}
