package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Storage lives in the store files (store.go, store_*.go): the rows, and every query. The service,
// ingestion and query logic call them, so the SQL of the catalog can be read, and changed, in one
// place (DESIGN.md §2).
func TestOnlyTheStoreFilesTouchTheDatabase(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "store.go" || strings.HasPrefix(name, "store_") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(p, "gorm.io/") || p == "database/sql" {
				t.Errorf("%s imports %s; queries belong in the store files", name, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && (sel.Sel.Name == "DB" || sel.Sel.Name == "Dialect") {
				t.Errorf("%s: %s calls the database directly (.%s); queries belong in the store files", name, fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
