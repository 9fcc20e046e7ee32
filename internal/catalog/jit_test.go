package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/pgtest"
)

// archivd's sessions run with JIT off (the server's default is on where
// PostgreSQL was built with LLVM, as Debian's is), unless the URL says
// otherwise; behind a pooler in transaction mode no startup parameter is
// sent.
func TestCatalogSessionsRunWithoutJIT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func(o catalog.Options) *catalog.DB {
		t.Helper()
		db, err := catalog.OpenWith(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	jit := func(db *catalog.DB) string {
		t.Helper()
		v, err := db.Setting(ctx, "jit")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The test server runs with jit off; the database's default is on
	// here, as on a server with the stock setting.
	base := pgtest.Open(t, url)
	pgtest.Exec(t, base, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = on', current_database()); END $$")
	on := url + "&jit=on"
	if !strings.Contains(url, "?") {
		on = url + "?jit=on"
	}
	if v := jit(open(catalog.Options{URL: on})); v != "on" {
		t.Fatalf("URL with jit=on: the session has jit %s (the server's setting should show through)", v)
	}
	db := open(catalog.Options{URL: url})
	if v := jit(db); v != "off" {
		t.Fatalf("default: the session has jit %s, want off", v)
	}
	if v := db.SessionParam("jit"); v != "off" {
		t.Fatalf("default: the LISTEN session's jit parameter is %q, want off", v)
	}
	pooled := open(catalog.Options{URL: url, PoolMode: catalog.PoolTransaction})
	if v := jit(pooled); v != "on" {
		t.Fatalf("transaction pool mode: jit %s, want the database's on (no startup parameter a pooler would refuse)", v)
	}
	if v := pooled.SessionParam("jit"); v != "" {
		t.Fatalf("transaction pool mode, no session URL: the LISTEN session (through the pooler) sends jit %q", v)
	}
	direct := open(catalog.Options{URL: url, PoolMode: catalog.PoolTransaction, SessionURL: url})
	if v := direct.SessionParam("jit"); v != "off" {
		t.Fatalf("transaction pool mode: the direct LISTEN session has jit %q, want off", v)
	}
}
