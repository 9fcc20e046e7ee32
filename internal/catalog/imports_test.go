package catalog_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// pgxAllowed are the packages besides internal/catalog that may import
// pgx: internal/pgtest/rawsql runs SQL no catalog method offers, for tests
// only (its package comment says why).
var pgxAllowed = []string{
	"github.com/archivd/archivd/internal/catalog",
	"github.com/archivd/archivd/internal/pgtest/rawsql",
}

// TestOnlyCatalogImportsPgx reads the import graph of every package of the
// module, tests included, and fails on a direct import of pgx (or one of
// its subpackages) from anywhere but pgxAllowed.
func TestOnlyCatalogImportsPgx(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-test", "-json=ImportPath,ForTest,Imports", "github.com/archivd/archivd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath, ForTest string
			Imports             []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		// A test variant is listed as "pkg [pkg.test]"; judge the package.
		pkg := strings.Fields(p.ImportPath)[0]
		if p.ForTest != "" {
			pkg = p.ForTest
		}
		pkg = strings.TrimSuffix(pkg, "_test")
		if slices.Contains(pgxAllowed, pkg) {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "github.com/jackc/pgx/v5" || strings.HasPrefix(imp, "github.com/jackc/pgx/") {
				t.Errorf("%s imports %s: only internal/catalog speaks to PostgreSQL", p.ImportPath, imp)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("go list listed %d packages: the check would prove nothing", seen)
	}
}
