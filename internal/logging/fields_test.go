package logging

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fieldKind is the JSON type a zerolog field method writes.
var fieldKind = map[string]string{
	"Str": "string", "Stringer": "string", "Hex": "string", "IPAddr": "string",
	"Int": "int", "Int8": "int", "Int16": "int", "Int32": "int", "Int64": "int",
	"Uint": "int", "Uint8": "int", "Uint16": "int", "Uint32": "int", "Uint64": "int",
	"Float32": "float", "Float64": "float", "Bool": "bool", "Time": "time", "Dur": "duration",
	"Strs": "[]string", "Ints": "[]int", "Ints64": "[]int", "Uints64": "[]int", "Errs": "[]string",
	"Interface": "any", "Any": "any", "RawJSON": "any", "Dict": "object",
}

// logField is one field written by a log call in the code.
type logField struct{ key, kind, where string }

// TestLogFieldsKeepOneTypeAndNameUnits reads every log call in the
// repository's Go code (tests and generated files aside): the same key
// must always be written with the same JSON type, a duration's key must
// name its unit (zerolog writes durations as milliseconds: *_ms), and a
// torrent is "torrent" (infohash hex) or "torrent_id" (catalog id).
func TestLogFieldsKeepOneTypeAndNameUnits(t *testing.T) {
	fields := scanLogFields(t, "../..")
	if len(fields) < 50 {
		t.Fatalf("found only %d log fields: is the scan broken?", len(fields))
	}
	kinds := map[string]map[string][]string{}
	for _, f := range fields {
		if kinds[f.key] == nil {
			kinds[f.key] = map[string][]string{}
		}
		kinds[f.key][f.kind] = append(kinds[f.key][f.kind], f.where)
		if f.kind == "duration" && !strings.HasSuffix(f.key, "_ms") {
			t.Errorf("%s: duration field %q does not end in _ms", f.where, f.key)
		}
	}
	want := map[string]string{"torrent": "string", "torrent_id": "int", "infohash": "", "run": "int", "piece": "int"}
	for key, byKind := range kinds {
		if w, ok := want[key]; ok && (len(byKind) != 1 || byKind[w] == nil) {
			t.Errorf("field %q must be %q: written as %v", key, w, byKind)
		}
		if len(byKind) > 1 {
			t.Errorf("field %q is written with %d types: %v", key, len(byKind), byKind)
		}
	}
}

func scanLogFields(t *testing.T, root string) []logField {
	t.Helper()
	var out []logField
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lf, ok := fieldOf(fset, n); ok {
				out = append(out, lf)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// fieldOf recognises x.Method("key", ...) where Method writes a zerolog
// field and x is itself a call chain (log.Info().Str(...), With().Int(...)).
func fieldOf(fset *token.FileSet, n ast.Node) (logField, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok || len(call.Args) < 2 {
		return logField{}, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return logField{}, false
	}
	kind, ok := fieldKind[sel.Sel.Name]
	if _, chained := sel.X.(*ast.CallExpr); !ok || !chained {
		return logField{}, false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return logField{}, false
	}
	key, _ := strconv.Unquote(lit.Value)
	return logField{key: key, kind: kind, where: fset.Position(call.Pos()).String()}, true
}
