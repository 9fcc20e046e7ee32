package httpapi

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/archivd/archivd/internal/loopback"
)

// validate checks o and turns on RequireToken for non-loopback addresses.
func (o *Options) validate() error {
	if o.Listen == "" {
		return errors.New("httpapi: http.listen is empty (the HTTP server is off; do not start it)")
	}
	loop, err := loopback.Listen(o.Listen)
	if err != nil {
		return fmt.Errorf("httpapi: http.listen %w", err)
	}
	if !loop {
		o.RequireToken = true
	}
	if o.RequireToken && o.TokenFile == "" {
		if loop {
			return fmt.Errorf("httpapi: token required for http.listen %q but http.token_file is empty", o.Listen)
		}
		return tokenError(o.Listen)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return fmt.Errorf("httpapi: http.tls_cert %q and http.tls_key %q: set both or neither", o.TLSCert, o.TLSKey)
	}
	if o.DB == nil {
		return errors.New("httpapi: no catalog (Options.DB is nil)")
	}
	return nil
}

func tokenError(listen string) error {
	return fmt.Errorf("httpapi: http.listen %q is not a loopback address: set http.token_file (a bearer token) or listen on 127.0.0.1", listen)
}

// readToken returns the SHA-256 of the trimmed token in path, or nil when
// no token is needed and none is configured. Comparing digests keeps the
// comparison constant-time even in the token's length.
func readToken(path string, required bool) ([]byte, error) {
	if path == "" {
		if required {
			return nil, errors.New("httpapi: http.token_file is required")
		}
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("httpapi: read http.token_file %s: %w", path, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return nil, fmt.Errorf("httpapi: http.token_file %s is empty", path)
	}
	sum := sha256.Sum256([]byte(tok))
	return sum[:], nil
}

// loadTLS loads the certificate pair, or returns nil when none is set.
func loadTLS(cert, key string) (*tls.Config, error) {
	if cert == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("httpapi: load http.tls_cert %s / http.tls_key %s: %w", cert, key, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
