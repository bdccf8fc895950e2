package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// parseSources parses the package's non-test Go files.
func parseSources(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// config is a leaf: every command and test reads settings without linking the store (and its
// database drivers) or the crypto of seal. Only errs, itself a leaf, is shared.
func TestConfigImportsNoPortsidePackageButErrs(t *testing.T) {
	const module = "github.com/portside-dev/portside"
	fset, files := parseSources(t)
	for _, f := range files {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if (path == module || strings.HasPrefix(path, module+"/")) && path != module+"/errs" {
				t.Errorf("%s imports %s", fset.Position(imp.Pos()), path)
			}
		}
	}
}

// Each value is parsed once, by the setting's own parser, which either stores the result or
// reports the error: no Config field is ever filled from a parse whose error was thrown away
// (as in `c.Demo, _ = strconv.ParseBool(v)`, which relied on a separate check having run first).
func TestNoConfigFieldIsFilledFromADroppedError(t *testing.T) {
	fset, files := parseSources(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) < 2 || len(as.Rhs) != 1 {
				return true
			}
			if id, ok := as.Lhs[len(as.Lhs)-1].(*ast.Ident); !ok || id.Name != "_" {
				return true
			}
			for _, l := range as.Lhs[:len(as.Lhs)-1] {
				if _, ok := l.(*ast.SelectorExpr); ok {
					t.Errorf("%s: a field is assigned while the error beside it is dropped", fset.Position(as.Pos()))
				}
			}
			return true
		})
	}
}
