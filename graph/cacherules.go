package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/graph/model"
)

// cacheRules say what the response cache and the rendered-entity cache may keep, as the schema
// declares it: @cache on a field, else the @cacheDefault its type carries in the file that
// declares the field. They are read from the parsed schema, once; nothing else decides (no list of
// types or fields, no schema file names), and TestEveryFieldOfEveryTypeIsClassified fails while a
// field is left out, so a new live field cannot be cached by accident.
type cacheRules struct {
	// fields holds the scope of every field of every object and interface type; a field missing
	// here (or undeclared) is never cached.
	fields map[fieldRef]model.CacheScope
	// undeclared lists the fields without a scope, for the test; they are treated as NONE.
	undeclared []fieldRef
}

// fieldRef names a field of a type as the schema declares it.
type fieldRef struct{ typ, field string }

func (f fieldRef) String() string { return f.typ + "." + f.field }

func newCacheRules(schema *ast.Schema) *cacheRules {
	r := &cacheRules{fields: map[fieldRef]model.CacheScope{}}
	for _, def := range schema.Types {
		if def.BuiltIn || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // introspection: never cached
			}
			ref := fieldRef{def.Name, f.Name}
			scope, ok := declaredScope(schema, def, f)
			if !ok {
				r.undeclared = append(r.undeclared, ref)
				continue
			}
			r.fields[ref] = scope
		}
	}
	return r
}

// declaredScope is a field's scope as the schema declares it: its own @cache, else the
// @cacheDefault of its type written in the same file. Fields of Mutation and Subscription are
// NONE by definition: only queries are cached.
func declaredScope(schema *ast.Schema, def *ast.Definition, f *ast.FieldDefinition) (model.CacheScope, bool) {
	if (schema.Mutation != nil && def.Name == schema.Mutation.Name) || (schema.Subscription != nil && def.Name == schema.Subscription.Name) {
		return model.CacheScopeNone, true
	}
	if d := f.Directives.ForName("cache"); d != nil {
		return scopeArgument(d)
	}
	for _, d := range def.Directives.ForNames("cacheDefault") {
		if sameSource(d.Position, f.Position) {
			return scopeArgument(d)
		}
	}
	return "", false
}

func scopeArgument(d *ast.Directive) (model.CacheScope, bool) {
	a := d.Arguments.ForName("scope")
	if a == nil || a.Value == nil {
		return "", false
	}
	s := model.CacheScope(a.Value.Raw)
	return s, s.IsValid()
}

func sameSource(a, b *ast.Position) bool {
	return a != nil && b != nil && a.Src != nil && b.Src != nil && a.Src.Name == b.Src.Name
}

// scope is the declared scope of a field selected on a type; NONE when undeclared.
func (r *cacheRules) scope(parent *ast.Definition, field string) model.CacheScope {
	if parent == nil {
		return model.CacheScopeNone
	}
	if s, ok := r.fields[fieldRef{parent.Name, field}]; ok {
		return s
	}
	return model.CacheScopeNone
}

// cacheable decides whether the answer to a selection may be kept. withStamps says whether the
// cache can version STAMPED fields (the rendered-entity cache cannot); underStamp says the
// selection is beneath a STAMPED field, where UNDER_STAMP fields are covered by its stamp.
func (r *cacheRules) cacheable(set ast.SelectionSet, seenFragments map[string]bool, withStamps, underStamp bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			under := underStamp
			switch r.scope(s.ObjectDefinition, s.Name) {
			case model.CacheScopeCatalog:
			case model.CacheScopeStamped:
				if !withStamps {
					return false
				}
				under = true
			case model.CacheScopeUnderStamp:
				if !underStamp {
					return false // Query.rollouts, or a new field returning rollouts data without a stamp
				}
			default:
				return false
			}
			if !r.cacheable(s.SelectionSet, seenFragments, withStamps, under) {
				return false
			}
		case *ast.InlineFragment:
			if !r.cacheable(s.SelectionSet, seenFragments, withStamps, underStamp) {
				return false
			}
		case *ast.FragmentSpread:
			if seenFragments[s.Name] {
				continue
			}
			seenFragments[s.Name] = true
			if s.Definition == nil || !r.cacheable(s.Definition.SelectionSet, seenFragments, withStamps, underStamp) {
				return false
			}
		}
	}
	return true
}

// cacheDirective implements @cache. Only STAMPED does anything: it notes, before the field is
// resolved, the stamp of what the field reads, in the answer the response cache may keep: on an
// entity the rollouts stamp of its Argo CD applications, on a pipeline the pipelines stamp of the
// runs. A STAMPED field on anything else (or with no service to stamp it) makes the answer one
// that is not kept: a missing stamp can cost a cache miss, never serve stale data.
func (r *Resolver) cacheDirective(ctx context.Context, obj any, next graphql.Resolver, scope model.CacheScope) (any, error) {
	if scope == model.CacheScopeStamped {
		if p := pendingFrom(ctx); p != nil {
			switch o := obj.(type) {
			case model.Entity:
				if o != nil && r.RolloutService != nil {
					p.note(r.RolloutService.Stamp(o.Value().Metadata.Annotations))
				} else {
					p.spoil()
				}
			case *model.Pipeline:
				if o != nil && r.PipelineService != nil {
					p.noteRuns(r.PipelineService.Stamp(ctx))
				} else {
					p.spoil()
				}
			default:
				p.spoil()
			}
		}
	}
	return next(ctx)
}
