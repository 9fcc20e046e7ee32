package httpapi

import (
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// newStdLogger routes net/http's own error log (TLS handshake failures and
// the like) to zerolog at warn level.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(zerologWriter{l}, "", 0)
}

type zerologWriter struct{ l zerolog.Logger }

func (w zerologWriter) Write(p []byte) (int, error) {
	w.l.Warn().Msg("http: " + strings.TrimSpace(string(p)))
	return len(p), nil
}

// zerologPromLogger is promhttp's error logger.
type zerologPromLogger struct{ l zerolog.Logger }

func (p zerologPromLogger) Println(v ...interface{}) {
	p.l.Warn().Msg("metrics: " + strings.TrimSpace(fmt.Sprintln(v...)))
}

// statusWriter remembers the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// withAccessLog logs every request at debug level.
func (s *Server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.o.Logger.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.code).
			Int64("took_ms", time.Since(start).Milliseconds()).Str("remote", r.RemoteAddr).Msg("http: request")
	})
}
