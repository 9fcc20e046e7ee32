package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/archivd/archivd/internal/backoff"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// changeChannel is the NOTIFY channel of the change triggers in
// migrations/001_catalog.sql (archivd_notify_change).
const changeChannel = "archivd_catalog"

// Change is one catalog change the daemon acts on, parsed once here.
type Change struct {
	Table string // "collections", "torrents", "verify_runs", ...
	Op    string // "INSERT", "UPDATE", "DELETE"
	ID    int64
	// Resync is set (and the other fields empty) when the listener has
	// (re)connected: changes made while it was down were not delivered, so
	// a subscriber must read what it cares about afresh.
	Resync bool
}

// Notifier delivers catalog changes: one dedicated session connection
// (Options.SessionURL, else the pool's URL) LISTENs (a pooled one would be
// lost to the pool, and a transaction-mode PgBouncer cannot LISTEN),
// reconnecting with internal/backoff while the database is away. With
// Options.Poll set it LISTENs nowhere: it reads the change log
// (catalog_changes) through the pool every Poll instead, and delivers the
// same changes. Subscribers' functions run on the notifier's goroutine and
// must not block.
type Notifier struct {
	db   *DB
	log  zerolog.Logger
	wait backoff.Backoff

	mu        sync.Mutex
	subs      map[int]func(Change)
	nextSub   int
	listening bool
	lastErr   error
	ready     chan struct{}
	readyOnce sync.Once
}

// NewNotifier returns a notifier on db; Run starts it.
func (db *DB) NewNotifier(log zerolog.Logger) *Notifier {
	return &Notifier{db: db, log: log.With().Str("component", "catalog_listener").Logger(),
		wait: backoff.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}, ready: make(chan struct{}),
		subs: map[int]func(Change){}}
}

// Subscribe adds fn until unsubscribe is called; fn is first called with a
// Resync change once the notifier listens (at once when it already does).
func (n *Notifier) Subscribe(fn func(Change)) (unsubscribe func()) {
	n.mu.Lock()
	id := n.nextSub
	n.nextSub++
	n.subs[id] = fn
	up := n.listening
	n.mu.Unlock()
	if up {
		fn(Change{Resync: true})
	}
	return func() {
		n.mu.Lock()
		delete(n.subs, id)
		n.mu.Unlock()
	}
}

// Polling reports whether the notifier polls the change log instead of
// LISTENing (Options.Poll).
func (n *Notifier) Polling() bool { return n.db.poll > 0 }

// Ready is closed once the notifier first listens (or has read its first
// position in the change log): a change committed
// after that is delivered (tests wait on it instead of sleeping).
func (n *Notifier) Ready() <-chan struct{} { return n.ready }

// Listening reports whether the LISTEN connection is up, and the error
// that took it down when it is not.
func (n *Notifier) Listening() (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.listening, n.lastErr
}

// Run listens until ctx ends; it returns nil then.
func (n *Notifier) Run(ctx context.Context) error {
	once := n.listenOnce
	if n.db.poll > 0 {
		once = n.pollOnce
	}
	for ctx.Err() == nil {
		connected, err := once(ctx)
		if ctx.Err() != nil {
			break
		}
		if connected {
			n.wait.Reset()
		}
		delay := n.wait.Next()
		n.setDown(err, delay)
		if backoff.Sleep(ctx, delay) != nil {
			break
		}
	}
	n.mu.Lock()
	n.listening = false
	n.mu.Unlock()
	return nil
}

// listenOnce connects, LISTENs and delivers notifications until the
// connection fails.
func (n *Notifier) listenOnce(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, n.db.session.Copy())
	if err != nil {
		return false, fmt.Errorf("catalog: connect to LISTEN: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return false, fmt.Errorf("catalog: LISTEN %s: %w", changeChannel, err)
	}
	n.setUp()
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("catalog: wait for changes: %w", err)
		}
		c, err := parseChange(msg.Payload)
		if err != nil {
			n.log.Warn().Err(err).Msg("unreadable catalog change notification")
			continue
		}
		n.deliver(c)
	}
}

// pollOnce reads the change log every poll interval and delivers what was
// committed since the previous read, until a read fails.
func (n *Notifier) pollOnce(ctx context.Context) (connected bool, err error) {
	var cur changeCursor
	if _, err := n.db.readChanges(ctx, &cur); err != nil {
		return false, err
	}
	n.setUp()
	t := time.NewTicker(n.db.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-t.C:
		}
		changes, err := n.db.readChanges(ctx, &cur)
		if err != nil {
			return true, err
		}
		for _, c := range changes {
			n.deliver(c)
		}
	}
}

func parseChange(payload string) (Change, error) {
	var p struct {
		Table string `json:"table"`
		Op    string `json:"op"`
		ID    int64  `json:"id"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil || p.Table == "" {
		return Change{}, fmt.Errorf("catalog: change payload %q: not {table, op, id}", payload)
	}
	return Change{Table: p.Table, Op: p.Op, ID: p.ID}, nil
}

// setUp marks the listener up, logs a recovery once and tells every
// subscriber to resync.
func (n *Notifier) setUp() {
	n.mu.Lock()
	recovered := n.lastErr != nil
	n.listening, n.lastErr = true, nil
	n.mu.Unlock()
	n.readyOnce.Do(func() { close(n.ready) })
	if recovered {
		n.log.Info().Msg("catalog change listener up again")
	}
	n.deliver(Change{Resync: true})
}

// setDown marks the listener down; only the first failure after being up
// (or at start) is logged, not every retry.
func (n *Notifier) setDown(err error, retry time.Duration) {
	n.mu.Lock()
	first := n.lastErr == nil
	n.listening, n.lastErr = false, err
	n.mu.Unlock()
	if first {
		n.log.Warn().Err(err).Int64("retry_in_ms", retry.Milliseconds()).Msg("catalog change listener down; retrying")
	}
}

func (n *Notifier) deliver(c Change) {
	n.mu.Lock()
	subs := make([]func(Change), 0, len(n.subs))
	for _, fn := range n.subs {
		subs = append(subs, fn)
	}
	n.mu.Unlock()
	for _, fn := range subs {
		fn(c)
	}
}
