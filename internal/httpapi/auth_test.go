package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/pgtest"
)

func TestTokenModeRejectsMissingAndWrongTokens(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	seed(t, db)
	tok := writeFile(t, "token", "  s3cret-token\n")
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}, TokenFile: tok, RequireToken: true})
	base := "http://" + s.Addr()
	for _, path := range []string{"/", "/metrics", "/readyz", "/api/v1/collections", "/api/v1/torrents",
		"/api/v1/runs", "/api/v1/findings", "/api/v1/throughput"} {
		if code, _ := get(t, nil, base+path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without token: %d, want 401", path, code)
		}
		for _, wrong := range []string{"s3cret-toke", "s3cret-token2", "S3CRET-TOKEN", "x"} {
			if code, _ := get(t, nil, base+path, wrong); code != http.StatusUnauthorized {
				t.Errorf("%s with wrong token %q: %d, want 401", path, wrong, code)
			}
		}
		if code, body := get(t, nil, base+path, "s3cret-token"); code != http.StatusOK {
			t.Errorf("%s with the token: %d %s, want 200", path, code, body)
		}
	}
	// Other schemes do not pass either.
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.SetBasicAuth("s3cret-token", "s3cret-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("basic auth: %v %v, want 401", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	// Liveness stays open: orchestrators probe it without credentials.
	if code, _ := get(t, nil, base+"/healthz", ""); code != 200 {
		t.Errorf("/healthz without token: %d, want 200", code)
	}
}

func TestLoopbackListenNeedsNoToken(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}})
	if code, body := get(t, nil, "http://"+s.Addr()+"/api/v1/collections", ""); code != 200 {
		t.Fatalf("loopback without token: %d %s", code, body)
	}
}

func TestNewRefusesNonLoopbackWithoutTokenFile(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0", "example.org:0"} {
		_, err := httpapi.New(httpapi.Options{Listen: listen, DB: db, Logger: testLogger(t)})
		if err == nil || !strings.Contains(err.Error(), "http.listen") || !strings.Contains(err.Error(), "http.token_file") {
			t.Errorf("New(%q) without token: %v, want an error naming http.listen and http.token_file", listen, err)
		}
	}
	// With a token file the configuration is accepted. Validation is
	// checked without binding 0.0.0.0: New fails later, at the listen,
	// only because we hand it a port that cannot be bound.
	tok := writeFile(t, "token", "abc")
	_, err := httpapi.New(httpapi.Options{Listen: "0.0.0.0:-1", DB: db, TokenFile: tok, Logger: testLogger(t)})
	if err == nil || strings.Contains(err.Error(), "http.token_file") || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("New(0.0.0.0) with token: %v, want only the bind to fail", err)
	}
	empty := writeFile(t, "empty", " \n")
	if _, err := httpapi.New(httpapi.Options{Listen: "127.0.0.1:0", DB: db, TokenFile: empty, Logger: testLogger(t)}); err == nil ||
		!strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty token file: %v", err)
	}
	if _, err := httpapi.New(httpapi.Options{Listen: "127.0.0.1:0", DB: db, TLSCert: "c.pem", Logger: testLogger(t)}); err == nil ||
		!strings.Contains(err.Error(), "http.tls_key") {
		t.Fatalf("cert without key: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "archivd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	certFile = writeFile(t, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile, pool
}

func TestTLSServesWithSelfSignedCertificate(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	cert, key, pool := selfSigned(t)
	tok := writeFile(t, "token", "tls-token")
	s := start(t, httpapi.Options{DB: db, Live: &fixedLive{}, TLSCert: cert, TLSKey: key, TokenFile: tok, RequireToken: true})
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if code, body := get(t, c, "https://"+s.Addr()+"/readyz", "tls-token"); code != 200 {
		t.Fatalf("https /readyz: %d %s", code, body)
	}
	if code, _ := get(t, c, "https://"+s.Addr()+"/metrics", ""); code != 401 {
		t.Fatalf("https /metrics without token: %d, want 401", code)
	}
	// A client that does not trust the certificate is refused, and plain
	// HTTP on the TLS port gets no page.
	untrusting := &http.Client{Timeout: 10 * time.Second}
	if _, err := untrusting.Get("https://" + s.Addr() + "/healthz"); err == nil {
		t.Fatalf("untrusted certificate accepted")
	}
	if resp, err := untrusting.Get("http://" + s.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatalf("plain HTTP served on the TLS port")
		}
	}
	if _, err := httpapi.New(httpapi.Options{Listen: "127.0.0.1:0", DB: db, TLSCert: key, TLSKey: cert, Logger: testLogger(t)}); err == nil ||
		!strings.Contains(err.Error(), "http.tls_cert") {
		t.Fatalf("swapped cert and key: %v", err)
	}
}
