package seeder

import (
	"context"
	"log/slog"
	"strings"

	"github.com/rs/zerolog"
)

// levelHandler gives the engine's slog records the live level: the
// daemon's zerolog logger lets every level through and drops below the
// live level only when writing, so without this Enabled the engine built
// and formatted a debug record per piece (5 million at a large torrent's
// add, with the client lock held) to have it thrown away.
type levelHandler struct {
	slog.Handler
	level func() zerolog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slogLevel(h.level()) && h.Handler.Enabled(ctx, l)
}

// Handle passes a record on, except the engine's error line per chunk it
// could not write ("writing received chunk N: ..."): a full disk makes one
// per chunk in flight, hundreds at each retry. Every such failure reaches
// onWriteError, whose fault loop logs the torrent's change of state once
// and the failures counted per retry round (writefault.go); the engine's
// line goes out at debug level only.
func (h levelHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && strings.Contains(r.Message, chunkWriteFailed) {
		if slogLevel(h.level()) > slog.LevelDebug {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

// chunkWriteFailed is how the engine's line for a chunk it could not
// write begins (anacrolix/torrent Peer.receiveChunk).
const chunkWriteFailed = "writing received chunk"

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{h.Handler.WithAttrs(as), h.level}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{h.Handler.WithGroup(name), h.level}
}

func slogLevel(l zerolog.Level) slog.Level {
	switch {
	case l <= zerolog.TraceLevel:
		return slog.LevelDebug - 4
	case l == zerolog.DebugLevel:
		return slog.LevelDebug
	case l == zerolog.InfoLevel:
		return slog.LevelInfo
	case l == zerolog.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// engineSlogger is the engine's logger at the live level (cfg.LogLevel,
// else the logger's own level).
func engineSlogger(cfg Config) *slog.Logger {
	log := cfg.Logger.With().Str("component", "engine").Logger()
	level := cfg.LogLevel
	if level == nil {
		level = log.GetLevel
	}
	return slog.New(levelHandler{zerolog.NewSlogHandler(log), level})
}
