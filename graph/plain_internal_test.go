package graph

import (
	"time"

	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/graph/model"
)

// TestPlainFieldsAreTheGeneratedGetters holds plain.go's list to the generated code: each field
// it renders itself is one the generated code resolves by calling a getter of the model with no
// arguments (no resolver of the service, no error), with no middleware of a field directive, not
// marked a resolver (tracing and the budget treat those apart), and marshalled as a String,
// String!, ID!, [String!]! or Time!; the same of the relation's type and targetRef, which
// _Relation writes itself; and every entity type of the schema is listed.
func TestPlainFieldsAreTheGeneratedGetters(t *testing.T) {
	funcs := generatedFuncs(t)
	marshals := map[string]bool{
		"marshalNString2string": true, "marshalOString2ᚖstring": true, "marshalNID2string": true,
		"marshalNString2ᚕstringᚄ": true, "marshalNTime2timeᚐTime": true,
	}
	names := map[string]bool{}
	// Each type's fields with the getter plain.go calls: the entities', and the relations' two
	// (plain.go's _Relation reads the model's fields of those names).
	getters := map[string]map[string]string{"Relation": {"type": "Type", "targetRef": "TargetRef"}}
	for _, typ := range plainTypes {
		names[typ.name] = true
		getters[typ.name] = map[string]string{}
		for field, f := range typ.fields {
			getters[typ.name][field] = f.getter
		}
	}
	for typ, fields := range getters {
		for field, getter := range fields {
			name := "_" + typ + "_" + field
			fn := funcs[name]
			if fn == nil {
				t.Errorf("%s.%s: the generated code has no %s", typ, field, name)
				continue
			}
			call := resolveFieldCall(fn)
			if call == nil || len(call.Args) < 7 {
				t.Errorf("%s does not return graphql.ResolveField(...) as plain.go expects", name)
				continue
			}
			if got := getterOf(call.Args[4]); got != getter {
				t.Errorf("%s: the generated resolver returns obj.%s (\"\": not a getter of the model), plain.go calls %s", name, got, getter)
			}
			if id, ok := call.Args[5].(*ast.Ident); !ok || id.Name != "nil" {
				t.Errorf("%s: it has a middleware (a field directive)", name)
			}
			if m := returnedMethod(call.Args[6]); !marshals[m] {
				t.Errorf("%s: marshalled by %q, which plain.go does not write", name, m)
			}
			if isResolver(funcs["fieldContext"+name]) {
				t.Errorf("%s: its field context says it is a resolver", name)
			}
		}
	}
	// Every GraphQL type an entity can be (the generated _Entity's cases) is listed.
	ast.Inspect(funcs["_entityUncached"], func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && len(sel.Sel.Name) > 1 && sel.Sel.Name[0] == '_' {
				if typ := sel.Sel.Name[1:]; typ != "entityUncached" && !names[typ] {
					t.Errorf("entity type %s is not in plain.go's plainTypes", typ)
				}
			}
		}
		return true
	})
}

// TestAZeroTimeIsLeftToGqlgen: a Time! field whose value is zero is null in gqlgen's rendering,
// an error; plain.go leaves such an entity to gqlgen.
func TestAZeroTimeIsLeftToGqlgen(t *testing.T) {
	zero := model.WrapEntity(&backstage.Entity{Kind: backstage.KindComponent, UpdatedAt: time.Now()}, nil)
	for field, want := range map[string]bool{"createdAt": true, "updatedAt": false} {
		f := plainComponent.fields[field]
		if f.isNull == nil || f.isNull(zero) != want {
			t.Errorf("%s of an entity created at the zero time: isNull says %v, want %v", field, f.isNull != nil && f.isNull(zero), want)
		}
	}
}

func generatedFuncs(t *testing.T) map[string]*ast.FuncDecl {
	t.Helper()
	files, err := filepath.Glob("*.generated.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated files: %v", err)
	}
	funcs := map[string]*ast.FuncDecl{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok {
				funcs[fn.Name.Name] = fn
			}
		}
	}
	return funcs
}

// returned is what body returns when it is a single return statement of n values, else nil.
func returned(body *ast.BlockStmt, n int) []ast.Expr {
	if body == nil || len(body.List) != 1 {
		return nil
	}
	if ret, ok := body.List[0].(*ast.ReturnStmt); ok && len(ret.Results) == n {
		return ret.Results
	}
	return nil
}

// returnedBy is returned of e's body where e is a function literal.
func returnedBy(e ast.Expr, n int) []ast.Expr {
	if lit, ok := e.(*ast.FuncLit); ok {
		return returned(lit.Body, n)
	}
	return nil
}

// resolveFieldCall is the graphql.ResolveField call fn returns.
func resolveFieldCall(fn *ast.FuncDecl) *ast.CallExpr {
	results := returned(fn.Body, 1)
	if results == nil {
		return nil
	}
	call, ok := results[0].(*ast.CallExpr)
	if !ok {
		return nil
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "ResolveField" {
		return nil
	}
	return call
}

// getterOf is X where e is func(ctx) (any, error) { return obj.X(), nil } or, for a field of the
// model's struct, { return obj.X, nil }; "" for anything else.
func getterOf(e ast.Expr) string {
	results := returnedBy(e, 2)
	if results == nil {
		return ""
	}
	if nilErr, ok := results[1].(*ast.Ident); !ok || nilErr.Name != "nil" {
		return ""
	}
	value := results[0]
	if call, ok := value.(*ast.CallExpr); ok {
		if len(call.Args) != 0 {
			return ""
		}
		value = call.Fun
	}
	sel, ok := value.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if recv, ok := sel.X.(*ast.Ident); !ok || recv.Name != "obj" {
		return ""
	}
	return sel.Sel.Name
}

// returnedMethod is the method of ec that the marshal function literal e returns the call of.
func returnedMethod(e ast.Expr) string {
	results := returnedBy(e, 1)
	if results == nil {
		return ""
	}
	call, ok := results[0].(*ast.CallExpr)
	if !ok {
		return ""
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
		return sel.Sel.Name
	}
	return ""
}

// isResolver says whether a generated field context function marks its field a resolver:
// NewScalarFieldContext(object, field, isMethod, isResolver, ...) or a FieldContext literal.
func isResolver(fn *ast.FuncDecl) bool {
	if fn == nil {
		return true
	}
	resolver := false
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewScalarFieldContext" && len(n.Args) >= 4 {
				if id, ok := n.Args[3].(*ast.Ident); !ok || id.Name != "false" {
					resolver = true
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "IsResolver" {
				if id, ok := n.Value.(*ast.Ident); !ok || id.Name != "false" {
					resolver = true
				}
			}
		}
		return true
	})
	return resolver
}

// TestANilEntityIsNotPlain: a typed nil (which gqlgen renders as null) has no plain type.
func TestANilEntityIsNotPlain(t *testing.T) {
	for _, e := range []model.Entity{nil, (*model.Component)(nil), (*model.User)(nil), (*model.LocationEntity)(nil)} {
		if typ := plainTypeOf(e); typ != nil {
			t.Errorf("plainTypeOf(%#v) = %s, want none", e, typ.name)
		}
	}
	if typ := plainTypeOf(model.WrapEntity(&backstage.Entity{Kind: backstage.KindAPI}, nil)); typ != plainAPI {
		t.Errorf("an API's plain type = %v, want API's", typ)
	}
}
