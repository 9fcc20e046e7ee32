// Package pgtest gives tests a real, migrated PostgreSQL catalog: a fresh
// database per test, cloned from a migrated template, on the server named
// by TEST_DATABASE_URL or, when unset, on a throwaway cluster started from
// the host's PostgreSQL binaries (fsync off, unix socket only) and stopped
// when the test binary ends.
//
// Use it with a TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgserver"
	"github.com/archivd/archivd/internal/pgtest/rawsql"
)

var (
	once     sync.Once
	setupErr error
	adminURL string // a database on the server we may create databases from
	template string
	server   *pgserver.Server
	createMu sync.Mutex
	seq      atomic.Int64
)

// Main runs the package's tests and stops the throwaway cluster afterwards.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain with more to clean up.
func Run(m *testing.M) int {
	code := m.Run()
	if server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = server.Stop(ctx)
		cancel()
		_ = os.RemoveAll(filepath.Dir(server.Dir()))
	}
	return code
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		adminURL = u
	} else {
		reapStale(ctx)
		// Short path under /tmp: the socket path must stay under 107 bytes;
		// 0755 so that the postgres user can reach it when we are root.
		dir, err := os.MkdirTemp("", fmt.Sprintf("archivd-pgtest-%d-", os.Getpid()))
		if err != nil {
			setupErr = err
			return
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			setupErr = err
			return
		}
		server, err = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "pg"), Fast: true})
		if err != nil {
			setupErr = err
			return
		}
		adminURL = server.URL("postgres")
	}
	template = fmt.Sprintf("archivd_tmpl_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	setupErr = createTemplate(ctx)
}

// reapStale stops clusters left by test binaries that died without Main's
// cleanup (a panic, a timeout), identified by the dead pid in their name.
func reapStale(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "archivd-pgtest-*-*"))
	for _, d := range dirs {
		parts := strings.Split(filepath.Base(d), "-")
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		if s, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(d, "pg"), Fast: true}); err == nil {
			_ = s.Stop(ctx)
		}
		_ = os.RemoveAll(d)
	}
}

func createTemplate(ctx context.Context) error {
	if err := catalog.CreateDatabase(ctx, adminURL, template, ""); err != nil {
		return fmt.Errorf("pgtest: create template: %w", err)
	}
	db, err := catalog.Open(ctx, withDB(adminURL, template))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	return nil
}

func withDB(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + db
	return u.String()
}

// URL creates a fresh migrated database for t, dropped when t ends, and
// returns its connection string.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	name := fmt.Sprintf("%s_t%d", template, seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	createMu.Lock()
	err := catalog.CreateDatabase(ctx, adminURL, name, template)
	createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = catalog.DropDatabase(ctx, adminURL, name)
	})
	return withDB(adminURL, name)
}

// New returns an open catalog on a fresh migrated database for t.
func New(t testing.TB) *catalog.DB {
	t.Helper()
	return Open(t, URL(t))
}

// Open opens the catalog at url for t (closed when t ends); Exec and Int
// know its url.
func Open(t testing.TB, url string) *catalog.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := catalog.Open(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	urls.Store(db, url)
	t.Cleanup(func() { urls.Delete(db); db.Close() })
	return db
}

// urls maps catalogs opened by New and Open to their connection strings.
var urls sync.Map

// Exec runs sql (no catalog method does what the test needs) on the
// database of db, which New or Open returned.
func Exec(t testing.TB, db *catalog.DB, sql string, args ...any) {
	t.Helper()
	rawsql.Exec(t, urlOf(t, db), sql, args...)
}

// Int returns the single integer sql yields on the database of db.
func Int(t testing.TB, db *catalog.DB, sql string, args ...any) int64 {
	t.Helper()
	return rawsql.Int(t, urlOf(t, db), sql, args...)
}

// String returns the single text sql yields on the database of db.
func String(t testing.TB, db *catalog.DB, sql string, args ...any) string {
	t.Helper()
	return rawsql.String(t, urlOf(t, db), sql, args...)
}

// Ints returns the first column of sql's rows on the database of db.
func Ints(t testing.TB, db *catalog.DB, sql string, args ...any) []int64 {
	t.Helper()
	return rawsql.Ints(t, urlOf(t, db), sql, args...)
}

// Hold runs sql in a transaction kept open until release (or the end of
// t) on the database of db: catalog calls touching what it locked wait.
func Hold(t testing.TB, db *catalog.DB, sql string, args ...any) (release func()) {
	t.Helper()
	return rawsql.Hold(t, urlOf(t, db), sql, args...)
}

// HoldCommit runs sql in a transaction kept open until commit, which
// commits it, on the database of db.
func HoldCommit(t testing.TB, db *catalog.DB, sql string, args ...any) (commit func()) {
	t.Helper()
	return rawsql.HoldCommit(t, urlOf(t, db), sql, args...)
}

func urlOf(t testing.TB, db *catalog.DB) string {
	t.Helper()
	u, ok := urls.Load(db)
	if !ok {
		t.Fatal("pgtest: catalog not opened by pgtest.New or pgtest.Open")
	}
	return u.(string)
}

// Own starts a private cluster that the test may stop and start again
// (outage tests): the catalog is migrated in its database "archivd" at url;
// pgserver.Start(ctx, opts) starts it again after srv.Stop. It is stopped
// and removed when the test ends.
func Own(t testing.TB) (srv *pgserver.Server, opts pgserver.Options, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Short path: the socket path must stay under 107 bytes; 0755 so that
	// the postgres user can reach it when we are root.
	dir, err := os.MkdirTemp("", "archivd-own-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts = pgserver.Options{Dir: filepath.Join(dir, "pg"), Fast: true}
	if srv, err = pgserver.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Stop(ctx)
		_ = os.RemoveAll(dir)
	})
	if err := srv.EnsureDatabase(ctx, "archivd"); err != nil {
		t.Fatal(err)
	}
	url = srv.URL("archivd")
	db, err := catalog.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return srv, opts, url
}
