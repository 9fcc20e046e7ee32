package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/rs/zerolog"
)

// receiver is a real HTTP server on loopback that answers the first fail
// requests with status, then checks signatures the way docs/OPERATIONS.md
// tells a receiver to.
type receiver struct {
	mu       sync.Mutex
	fail     int
	status   int
	secret   []byte
	got      []http.Header
	bodies   [][]byte
	verified int
	url      string
}

func startReceiver(t *testing.T, fail, status int, secret string) *receiver {
	t.Helper()
	r := &receiver{fail: fail, status: status, secret: []byte(secret)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	r.url = "http://" + ln.Addr().String() + "/hook"
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got, r.bodies = append(r.got, req.Header.Clone()), append(r.bodies, body)
	if len(r.got) <= r.fail {
		w.WriteHeader(r.status)
		return
	}
	// The receiver's check: fresh timestamp, constant-time HMAC compare.
	ts, err := strconv.ParseInt(req.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(req.Header.Get(HeaderTimestamp) + "."))
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(req.Header.Get(HeaderSignature))) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.verified++
	w.WriteHeader(http.StatusNoContent)
}

func secretFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testSender(url, secret string, log *bytes.Buffer) *Sender {
	return &Sender{URL: url, SecretFile: secret, Attempts: 4, Backoff: backoff.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond},
		Timeout: 5 * time.Second, Log: zerolog.New(log)}
}

// Two 503s, then a signed delivery the receiver verifies; the delivery id
// stays, each attempt has its own timestamp, and one warning is logged.
func TestPostRetriesThenDeliversASignatureTheReceiverVerifies(t *testing.T) {
	t.Parallel()
	r := startReceiver(t, 2, http.StatusServiceUnavailable, "s3cret")
	var log bytes.Buffer
	s := testSender(r.url, secretFile(t, "s3cret\n"), &log)
	body := []byte(`{"run":{"id":7}}`)
	if err := s.Post(context.Background(), "verify.run", body); err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 3 || r.verified != 1 || !bytes.Equal(r.bodies[2], body) {
		t.Fatalf("attempts %d, verified %d", len(r.got), r.verified)
	}
	id := r.got[0].Get(HeaderDelivery)
	for _, h := range r.got {
		if h.Get(HeaderDelivery) != id || h.Get(HeaderEvent) != "verify.run" || h.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", h)
		}
	}
	if n := strings.Count(log.String(), "webhook delivery failing; retrying"); n != 1 {
		t.Errorf("%d failing lines, want 1 per delivery:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "webhook delivered after retries") {
		t.Errorf("no recovery line:\n%s", log.String())
	}
}

// A wrong secret is refused by the receiver (401): not retried.
func TestPostDoesNotRetryARefusal(t *testing.T) {
	t.Parallel()
	r := startReceiver(t, 0, 0, "right")
	var log bytes.Buffer
	err := testSender(r.url, secretFile(t, "wrong"), &log).Post(context.Background(), "verify.run", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "401") || len(r.got) != 1 {
		t.Fatalf("err %v after %d attempts", err, len(r.got))
	}
}

// A receiver down for good: Attempts tries, then an error naming them.
func TestPostGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	r := startReceiver(t, 100, http.StatusBadGateway, "x")
	var log bytes.Buffer
	err := testSender(r.url, "", &log).Post(context.Background(), "verify.run", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "attempt 4 of 4") || len(r.got) != 4 {
		t.Fatalf("err %v after %d attempts", err, len(r.got))
	}
	if r.got[0].Get(HeaderSignature) != "" {
		t.Error("signed without a secret file")
	}
}

func TestSignMatchesAnIndependentHMAC(t *testing.T) {
	t.Parallel()
	m := hmac.New(sha256.New, []byte("k"))
	m.Write([]byte("1700000000.{}"))
	if got, want := Sign([]byte("k"), 1700000000, []byte("{}")), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}
