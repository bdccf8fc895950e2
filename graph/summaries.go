package graph

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// A page of entities (Query.entities, an owner's ownedEntities, a location's entities, what a
// search found) reads each entity whole by default: its stored document decoded and every
// relation in both directions. A selection that shows only what the entities row's columns
// hold (a list of names and titles) asks the catalog for summaries instead
// (catalog.Query.Summaries): the page's own statement reads those columns, and neither the
// documents nor the relations are read. Where there is any doubt the page is read whole.

// wholePages makes every page read its entities whole, and every related entity
// (relatedSummariesSuffice) be read whole, for tests that compare both ways.
var wholePages atomic.Bool

// summaryFields are, per entity type, the fields a summary answers as the whole entity does: each
// is a method of the model reading a value the entities row holds (catalog's pageKey.summary).
// A field not listed (apiVersion, spec, labels, annotations, links, relations and every field
// that follows them, location, and whatever the schema adds later) makes the page whole.
var summaryFields = func() map[string]map[string]bool {
	common := []string{"__typename", "id", "ref", "kind", "namespace", "name", "title", "description", "tags",
		"source", "createdAt", "updatedAt"}
	byType := map[string][]string{
		"Component":      {"type", "lifecycle", "ownerRef", "systemRef"},
		"API":            {"type", "lifecycle", "ownerRef", "systemRef"},
		"System":         {"type", "ownerRef"},
		"Domain":         {"type", "ownerRef"},
		"Resource":       {"type", "ownerRef", "systemRef"},
		"Group":          {"type"},
		"User":           {},
		"LocationEntity": {"type"},
	}
	out := make(map[string]map[string]bool, len(byType))
	for t, extra := range byType {
		m := map[string]bool{}
		for _, f := range append(append([]string{}, common...), extra...) {
			m[f] = true
		}
		out[t] = m
	}
	return out
}()

// entityImplementors are, per entity type, the type conditions its objects satisfy, as the
// executor collects their fields with.
var entityImplementors = map[string][]string{
	"Component":      componentImplementors,
	"API":            aPIImplementors,
	"System":         systemImplementors,
	"Domain":         domainImplementors,
	"Resource":       resourceImplementors,
	"Group":          groupImplementors,
	"User":           userImplementors,
	"LocationEntity": locationEntityImplementors,
}

// summariesSuffice says whether the field being resolved in ctx, one returning an
// EntityConnection, selects of its entities only fields a summary answers (summaryFields), for
// every type an entity may have, with fragments, aliases, type conditions and @skip/@include
// as the executor applies them.
func summariesSuffice(ctx context.Context) bool {
	op, fc, ok := fieldBeingResolved(ctx)
	if !ok || fc.Field.Definition == nil || fc.Field.Definition.Type == nil || fc.Field.Definition.Type.Name() != "EntityConnection" {
		return false
	}
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, entityConnectionImplementors) {
		switch f.Name {
		case "__typename", "totalCount", "pageInfo":
		case "nodes":
			if !entitySummarySuffices(op, f.Selections) {
				return false
			}
		case "edges":
			for _, g := range graphql.CollectFields(op, f.Selections, entityEdgeImplementors) {
				switch g.Name {
				case "__typename", "cursor":
				case "node":
					if !entitySummarySuffices(op, g.Selections) {
						return false
					}
				default:
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// relatedSummariesSuffice says whether the field being resolved in ctx, one answering entities
// related to its object (a component's owner and system, an API's providers, a relation's
// target ...), selects of them only fields a summary answers. Those are then read as summaries
// (catalog.Service.SummariesByRef): an owner's name needed its whole entity, every relation of
// it in both directions included (a group's owned components, a system's parts), read and
// decoded, for each such field of a request the read cache did not answer.
func relatedSummariesSuffice(ctx context.Context) bool {
	op, fc, ok := fieldBeingResolved(ctx)
	return ok && entitySummarySuffices(op, fc.Field.Selections)
}

// fieldBeingResolved returns the operation and the context of the field being resolved in ctx,
// or false where there is none, or where every entity is read whole (wholePages): what the
// functions that decide how entities are read look at.
func fieldBeingResolved(ctx context.Context) (*graphql.OperationContext, *graphql.FieldContext, bool) {
	if wholePages.Load() || !graphql.HasOperationContext(ctx) {
		return nil, nil, false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil, nil, false
	}
	return graphql.GetOperationContext(ctx), fc, true
}

// entitySummarySuffices says whether set, a selection on Entity, asks of an entity of any type
// only fields a summary answers.
func entitySummarySuffices(op *graphql.OperationContext, set ast.SelectionSet) bool {
	for typ, implementors := range entityImplementors {
		allowed := summaryFields[typ]
		for _, f := range graphql.CollectFields(op, set, implementors) {
			if !allowed[f.Name] || len(f.Selections) > 0 {
				return false
			}
		}
	}
	return true
}

// entitySummaryShown says whether the field being resolved in ctx, one answering an entity
// (Query.entity), selects of it only fields its summary with its relations answers: those a
// summary answers (summaryFields, without subselections), its relations, and its readTogether
// targets (readTogetherFields), whatever they select of them: each of those reads the entity's
// relations and the entities they name, never its document. The entity is then read without
// its document where the read cache is off (catalog.Service.EntityByInputWithTargets).
func entitySummaryShown(ctx context.Context) bool {
	op, fc, ok := fieldBeingResolved(ctx)
	if !ok {
		return false
	}
	for typ, implementors := range entityImplementors {
		for _, f := range graphql.CollectFields(op, fc.Field.Selections, implementors) {
			shown := summaryFields[typ][f.Name] && len(f.Selections) == 0
			if !shown && f.Name != "relations" && !slices.Contains(readTogetherFields[typ], f.Name) {
				return false
			}
		}
	}
	return true
}

// readTogetherFields are, per entity type, the fields that answer a target of a readTogether
// relation (its owner, and the system, domain or parent component it is part of).
var readTogetherFields = map[string][]string{
	"Component": {"owner", "system", "parent"},
	"API":       {"owner", "system"},
	"Resource":  {"owner", "system"},
	"System":    {"owner", "domain"},
	"Domain":    {"owner", "parent"},
}

// targetsShownAsSummaries says whether the field being resolved in ctx, one answering an entity,
// shows of it a target of a readTogether relation with only fields a summary answers: what
// allRelated then reads as one batch of summaries, which the entity's own statement can read
// instead (catalog.Service.EntityByInputWithTargets).
func targetsShownAsSummaries(ctx context.Context) bool {
	op, fc, ok := fieldBeingResolved(ctx)
	if !ok {
		return false
	}
	for typ, fields := range readTogetherFields {
		for _, f := range graphql.CollectFields(op, fc.Field.Selections, entityImplementors[typ]) {
			if slices.Contains(fields, f.Name) && entitySummarySuffices(op, f.Selections) {
				return true
			}
		}
	}
	return false
}
