package graph

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/portside-dev/portside/graph/model"
)

// Every field of every object and interface type says how its answer may be cached (@cache, or
// its type's @cacheDefault in the same file): a new field nobody thought about must fail here
// rather than be served stale.
func TestEveryFieldOfEveryTypeIsClassified(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	rules := newCacheRules(schema)
	for _, f := range rules.undeclared {
		t.Errorf("%s has no cache scope: give it @cache(scope: ...) or its type @cacheDefault(scope: ...) in the same file", f)
	}
	n := 0
	for _, def := range schema.Types {
		if def.BuiltIn || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			n++
			ref := fieldRef{def.Name, f.Name}
			if _, ok := rules.fields[ref]; !ok && !slices.Contains(rules.undeclared, ref) {
				t.Errorf("%s was not looked at", ref)
			}
		}
	}
	if n < 300 {
		t.Errorf("only %d fields walked; the schema has more", n)
	}
}

// A STAMPED field's stamp is taken from the entity (its applications) or the pipeline (the runs)
// it is on (cacheDirective): on any other type there is nothing to stamp, and the field would
// never be cached.
func TestStampedFieldsAreOnEntitiesOrPipelines(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	stamped := 0
	for ref, scope := range newCacheRules(schema).fields {
		if scope != model.CacheScopeStamped {
			continue
		}
		stamped++
		if ref.typ != "Pipeline" && !slices.ContainsFunc(schema.GetImplements(schema.Types[ref.typ]), func(d *ast.Definition) bool { return d.Name == "Entity" }) {
			t.Errorf("%s is STAMPED but %s is neither an Entity nor Pipeline: its stamp cannot be taken", ref, ref.typ)
		}
	}
	if stamped == 0 {
		t.Error("no STAMPED field: the component page's deployments and rollouts are")
	}
}

// A stamp covers only what it versions: beneath the runs' stamp (Pipeline.runs) only the runs'
// types are UNDER_STAMP, beneath an entity's rollouts stamp only the rollouts' types. A field that
// led from one to the other (a rollout's pipeline run, say) would be kept under a stamp that never
// moves when it changes.
func TestUnderStampFieldsAreBeneathTheirOwnKindOfStamp(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	rules := newCacheRules(schema)
	kind := func(typ string) string {
		if strings.HasPrefix(typ, "Pipeline") {
			return "pipeline runs"
		}
		return "Argo CD applications"
	}
	checked := 0
	for ref, scope := range rules.fields {
		if scope != model.CacheScopeStamped && scope != model.CacheScopeUnderStamp {
			continue
		}
		ret := schema.Types[schema.Types[ref.typ].Fields.ForName(ref.field).Type.Name()]
		for _, f := range ret.Fields {
			if rules.fields[fieldRef{ret.Name, f.Name}] != model.CacheScopeUnderStamp {
				continue
			}
			checked++
			if kind(ret.Name) != kind(ref.typ) {
				t.Errorf("%s (%s) leads to %s.%s, UNDER_STAMP of %s", ref, kind(ref.typ), ret.Name, f.Name, kind(ret.Name))
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d UNDER_STAMP fields checked", checked)
	}
}

// The rules as the schema states them, through the operations they decide.
func TestCacheRulesFollowTheSchemaDeclarations(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	rules := newCacheRules(schema)
	for _, tc := range []struct {
		query              string
		response, fragment bool // kept by the response cache (with stamps) / the rendered-entity cache
	}{
		{`{ entity(ref: "a") { ref description ... on Component { owner { name } } } }`, true, true},
		{`{ entities(first: 5) { totalCount nodes { ref relations { type target { ref } } } pageInfo { hasNextPage } } }`, true, true},
		{`{ facets(fields: [KIND]) { field values { value count } } }`, true, true},
		{`{ entity(ref: "a") { ref location { status } } }`, false, false},
		{`{ entity(ref: "a") { __typename location { __typename } } }`, false, false},
		{`{ locations { nodes { status } } }`, false, false},
		{`{ node(id: "x") { id } }`, false, false},
		{`{ __schema { queryType { name } } }`, false, false},
		{`{ me { username } }`, false, false},
		{`{ entity(ref: "a") { ... on Component { deployments { revision canary { steps { kind } } } rollouts { totalCount nodes { id commit { author } } } } } }`, true, false},
		{`{ entity(ref: "a") { ... on Component { deployments { syncWindows { canSync } } } } }`, false, false},
		{`{ entity(ref: "a") { ... on Component { dora { deploymentsPerDay } } } }`, false, false},
		{`{ rollouts(first: 5) { totalCount } }`, false, false},
		{`{ argoCDInstances { name } }`, false, false},
		{`{ dora { changes } }`, false, false},
		{`query Q { ...F } fragment F on Query { entity(ref: "a") { ref } }`, true, true},
	} {
		doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if errs := validator.Validate(schema, doc); len(errs) > 0 {
			t.Fatalf("%s: %v", tc.query, errs)
		}
		sel := doc.Operations[0].SelectionSet
		if got := rules.cacheable(sel, map[string]bool{}, true, false); got != tc.response {
			t.Errorf("%s: response cache keeps it %v, want %v", tc.query, got, tc.response)
		}
		if got := rules.cacheable(sel, map[string]bool{}, false, false); got != tc.fragment {
			t.Errorf("%s: without stamps keeps it %v, want %v", tc.query, got, tc.fragment)
		}
	}
}

// The declarations' own semantics, on a schema written for it: a field's @cache wins over its
// type's @cacheDefault, a type's default covers only its own file, and what is left undeclared is
// reported and never cached.
func TestCacheDeclarationsFieldWinsAndExtensionsMustSay(t *testing.T) {
	schema := gqlparser.MustLoadSchema(
		&ast.Source{Name: "base.graphqls", Input: `
directive @cache(scope: CacheScope!) on FIELD_DEFINITION
directive @cacheDefault(scope: CacheScope!) on OBJECT | INTERFACE
enum CacheScope { CATALOG STAMPED UNDER_STAMP NONE }
type Query @cacheDefault(scope: NONE) { a: A @cache(scope: CATALOG) live: Int }
type A @cacheDefault(scope: CATALOG) { name: String clock: String @cache(scope: NONE) }
`},
		&ast.Source{Name: "other.graphqls", Input: `
extend type A { added: String  said: String @cache(scope: CATALOG) }
`})
	rules := newCacheRules(schema)
	want := map[string]model.CacheScope{
		"Query.a": model.CacheScopeCatalog, "Query.live": model.CacheScopeNone,
		"A.name": model.CacheScopeCatalog, "A.clock": model.CacheScopeNone, "A.said": model.CacheScopeCatalog,
	}
	for ref, scope := range rules.fields {
		if want[ref.String()] != scope {
			t.Errorf("%s: %s, want %s", ref, scope, want[ref.String()])
		}
		delete(want, ref.String())
	}
	for ref := range want {
		t.Errorf("%s not classified", ref)
	}
	if len(rules.undeclared) != 1 || rules.undeclared[0].String() != "A.added" {
		t.Errorf("undeclared %v, want A.added alone (an extension field in another file must say its own)", rules.undeclared)
	}
	for q, keep := range map[string]bool{`{ a { name } }`: true, `{ a { added } }`: false, `{ a { clock } }`: false, `{ live }`: false} {
		doc := gqlparser.MustLoadQuery(schema, q)
		if got := rules.cacheable(doc.Operations[0].SelectionSet, map[string]bool{}, true, false); got != keep {
			t.Errorf("%s: kept %v, want %v", q, got, keep)
		}
	}
}

// A STAMPED field that cannot be stamped (not on an entity or pipeline, or no service to stamp it) still
// resolves, but its answer is not kept: a missing stamp costs a miss, never a stale answer.
func TestAStampedFieldThatCannotBeStampedIsNotKept(t *testing.T) {
	for name, obj := range map[string]any{"not an entity": &model.PageInfo{}, "no rollouts service": &model.Component{},
		"no pipelines service": &model.Pipeline{}} {
		p := &pendingResponse{armed: true}
		ctx := context.WithValue(context.Background(), pendingKey{}, p)
		resolved := false
		_, err := (&Resolver{}).cacheDirective(ctx, obj, func(context.Context) (any, error) { resolved = true; return nil, nil }, model.CacheScopeStamped)
		if err != nil || !resolved {
			t.Errorf("%s: resolved %v, %v; want the field resolved", name, resolved, err)
		}
		if !p.spoiled {
			t.Errorf("%s: the answer may still be kept", name)
		}
	}
}
