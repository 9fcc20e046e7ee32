package seeder

import (
	"context"
	"log/slog"

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
