// Package webhook delivers JSON events to an operator's HTTP endpoint:
// signed with HMAC-SHA256 over a timestamp and the body (a receiver can
// reject forgeries and replays), retried with bounded backoff on network
// errors, 5xx and 429, and logged once per change of state, not per retry.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/rs/zerolog"
)

// Headers sent with every delivery (see docs/OPERATIONS.md for the
// receiver's side).
const (
	HeaderEvent     = "X-Archivd-Event"     // e.g. verify.run
	HeaderDelivery  = "X-Archivd-Delivery"  // random id, the same on every attempt of one delivery
	HeaderTimestamp = "X-Archivd-Timestamp" // unix seconds of this attempt
	HeaderSignature = "X-Archivd-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Sender posts events to URL.
type Sender struct {
	URL string
	// SecretFile holds the HMAC key (surrounding whitespace dropped); it
	// is read at each delivery, so a rotated secret needs no restart.
	// "" = deliveries are not signed.
	SecretFile string
	Attempts   int             // 0 = 5
	Backoff    backoff.Backoff // zero = 1s doubling to 1m (jittered)
	Timeout    time.Duration   // per attempt; 0 = 30s
	Client     *http.Client    // nil = http.DefaultClient
	Log        zerolog.Logger
	Now        func() time.Time // nil = time.Now
}

// Sign is the signature header value of body sent at ts with secret.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// permanentError is a refusal retrying cannot change (4xx but 429).
type permanentError struct{ error }

// Post delivers body as event, retrying until an attempt succeeds, one is
// refused for good, Attempts are used up or ctx ends.
func (s *Sender) Post(ctx context.Context, event string, body []byte) error {
	attempts, bo := s.Attempts, s.Backoff
	if attempts <= 0 {
		attempts = 5
	}
	if bo.Min == 0 && bo.Max == 0 {
		bo = backoff.Backoff{Min: time.Second, Max: time.Minute}
	}
	id, err := deliveryID()
	if err != nil {
		return err
	}
	log := s.Log.With().Str("event", event).Str("delivery", id).Str("url", redact(s.URL)).Logger()
	for i := 1; ; i++ {
		err = s.attempt(ctx, event, id, body)
		if err == nil {
			if i > 1 {
				log.Info().Int("attempts", i).Msg("webhook delivered after retries")
			}
			return nil
		}
		_, permanent := err.(permanentError)
		if permanent || i == attempts || ctx.Err() != nil {
			return fmt.Errorf("webhook: deliver %s %s (attempt %d of %d): %w", event, id, i, attempts, err)
		}
		wait := bo.Next()
		if i == 1 {
			log.Warn().Err(err).Int("attempts", attempts).Int64("retry_in_ms", wait.Milliseconds()).Msg("webhook delivery failing; retrying")
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("webhook: deliver %s %s: %w", event, id, err)
		}
	}
}

func (s *Sender) attempt(ctx context.Context, event, id string, body []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return permanentError{fmt.Errorf("request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, id)
	if err := s.sign(req, body); err != nil {
		return permanentError{err}
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return permanentError{fmt.Errorf("receiver refused: %s", resp.Status)}
}

func (s *Sender) sign(req *http.Request, body []byte) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now().Unix()
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if s.SecretFile == "" {
		return nil
	}
	raw, err := os.ReadFile(s.SecretFile)
	if err != nil {
		return fmt.Errorf("read webhook secret: %w", err)
	}
	secret := bytes.TrimSpace(raw)
	if len(secret) == 0 {
		return fmt.Errorf("webhook secret file %s is empty", s.SecretFile)
	}
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	return nil
}

func deliveryID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook: delivery id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// redact drops credentials and the query from u for logs.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if s := strings.Index(u, "://"); s >= 0 && s < at {
			u = u[:s+3] + "REDACTED@" + u[at+1:]
		}
	}
	return u
}
