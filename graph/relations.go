package graph

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
)

// The helpers below give every relation field of every entity type one implementation: the
// targets of one relation type, loaded for the object's whole cohort in one batch.

// The bound of every relation list (the first argument): without one, nested relation lists
// (members > memberOf > members ...) multiplied past anything the complexity limit could weigh.
const (
	// RelationListDefault is how many items a relation list has when first is not given.
	RelationListDefault = 100
	// RelationListMax is the most first may ask for: as many relations of one type and kind as
	// an entity is read with (those other entities declare naming it are cut there).
	RelationListMax = catalog.RelationsOfTypeMax
)

// firstOfEachKind keeps, in order, the first n refs of each kind: all a list of them may show,
// whole or restricted to a kind (a system's components come after its APIs in relation order).
func firstOfEachKind(refs []backstage.Ref, n int) []backstage.Ref {
	if len(refs) <= n {
		return refs
	}
	seen := map[string]int{}
	out := make([]backstage.Ref, 0, n)
	for _, r := range refs {
		if seen[r.Kind]++; seen[r.Kind] <= n {
			out = append(out, r)
		}
	}
	return out
}

// relationLimit checks a relation list's first argument and says how many items it may have.
func relationLimit(first *int) (int, error) {
	if first == nil {
		return RelationListDefault, nil
	}
	if *first < 1 || *first > RelationListMax {
		return 0, errs.InvalidField("first", "must be between 1 and %d, got %d", RelationListMax, *first)
	}
	return *first, nil
}

// cut keeps the first n items of list.
func cut[T any](list []T, n int) []T {
	if len(list) > n {
		return list[:n]
	}
	return list
}

// related returns the existing targets of obj's relations of one type, in relation order, at
// most first of them.
func related(ctx context.Context, obj model.Entity, relType string, first *int) ([]model.Entity, error) {
	limit, err := relationLimit(first)
	if err != nil {
		return nil, err
	}
	list, err := allRelated(ctx, obj, relType)
	return cut(list, limit), err
}

// errSummary is what a field that needs an entity's relations or location answers on a summary
// (catalog.Query.Summaries), which has neither: summariesSuffice asked for one where it should
// not have. It fails the field rather than answer an empty list.
func errSummary(obj model.Entity) error {
	return errs.E(errs.Internal, "graph: entity %s was read as a summary, without relations", obj.Value().Ref)
}

// readTogether are the relation types whose targets' summaries are read in one batch: an
// entity's owner and what it is part of (its system, domain or parent component), which pages
// and entity views show side by side (owner { name } system { name }). Read apart they were two
// statements of a row each, and a round trip costs the server about as much as a small read's
// other work. Whole entities are still read per relation type: a system read whole brings
// every relation of it.
var readTogether = []string{backstage.RelOwnedBy, backstage.RelPartOf}

// readTogetherKey is the cohort key (model.Cohort.Related) of the batch of readTogether targets.
var readTogetherKey = "rel:" + strings.Join(readTogether, "+")

// allRelated is related without a bound, for the fields that name one target.
func allRelated(ctx context.Context, obj model.Entity, relType string) ([]model.Entity, error) {
	if obj.Cohort().Partial() {
		return nil, errSummary(obj)
	}
	key, types := "rel:"+relType, []string{relType}
	summaries := relatedSummariesSuffice(ctx)
	if summaries && slices.Contains(readTogether, relType) {
		key, types = readTogetherKey, readTogether
	}
	found, next, err := obj.Cohort().Related(ctx, key, summaries, func(e *backstage.Entity) []backstage.Ref {
		var refs []backstage.Ref
		for _, t := range types {
			// Every target: a list drops those that do not exist before it is cut to its
			// first, and an entity's own relations (the refs its document declares) may name
			// entities that are gone. Those from other entities come cut by the catalog.
			refs = append(refs, e.RelationsOfType(t)...)
		}
		return refs
	})
	if err != nil {
		return nil, err
	}
	out := []model.Entity{}
	for _, ref := range obj.Value().RelationsOfType(relType) {
		if e, ok := found[ref]; ok {
			out = append(out, model.WrapEntity(e, next))
		}
	}
	return out, nil
}

// relatedOfKind is related restricted to targets of one GraphQL type (System.components, ...).
func relatedOfKind[T model.Entity](ctx context.Context, obj model.Entity, relType string, first *int) ([]T, error) {
	limit, err := relationLimit(first)
	if err != nil {
		return nil, err
	}
	list, err := allOfKind[T](ctx, obj, relType)
	return cut(list, limit), err
}

func allOfKind[T model.Entity](ctx context.Context, obj model.Entity, relType string) ([]T, error) {
	list, err := allRelated(ctx, obj, relType)
	if err != nil {
		return nil, err
	}
	out := []T{}
	for _, e := range list {
		if t, ok := e.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// oneOfKind is for fields that name a single target (system, parent, domain).
func oneOfKind[T model.Entity](ctx context.Context, obj model.Entity, relType string) (T, error) {
	list, err := allOfKind[T](ctx, obj, relType)
	var zero T
	if err != nil || len(list) == 0 {
		return zero, err
	}
	return list[0], nil
}

// parent is the group a group belongs to: the one its own spec.parent names when that group
// exists, which wins over another group listing it in spec.children (both make a childOf
// relation); else the first of those.
func parent(ctx context.Context, obj *model.Group) (*model.Group, error) {
	list, err := allOfKind[*model.Group](ctx, obj, backstage.RelChildOf)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	e := obj.Value()
	if named, ok := e.Spec["parent"].(string); ok && named != "" {
		if ref, err := backstage.ParseRef(named, backstage.KindGroup, e.Ref.Namespace); err == nil {
			for _, g := range list {
				if g.Value().Ref == ref {
					return g, nil
				}
			}
		}
	}
	return list[0], nil
}

// owner is the entity spec.owner names, if it exists.
func owner(ctx context.Context, obj model.Entity) (model.Entity, error) {
	list, err := allRelated(ctx, obj, backstage.RelOwnedBy)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// relations lists obj's relations, optionally of one type, at most first of them.
func relations(obj model.Entity, relType *string, first *int) ([]*model.Relation, error) {
	limit, err := relationLimit(first)
	if err != nil {
		return nil, err
	}
	if obj.Cohort().Partial() {
		return nil, errSummary(obj)
	}
	out := []*model.Relation{}
	for _, r := range obj.Value().Relations {
		if len(out) == limit {
			break
		}
		if relType == nil || r.Type == *relType {
			out = append(out, model.NewRelation(obj, r))
		}
	}
	return out, nil
}

// relationTarget resolves a generic relation's target, batched over the relations of the cohort
// that a relations list may show: the first RelationListMax of each type and kind (a group
// declaring 20,000 members is not read whole for a page of its relations).
func relationTarget(ctx context.Context, r *model.Relation) (model.Entity, error) {
	found, next, err := r.From.Cohort().Related(ctx, "rel:*", relatedSummariesSuffice(ctx), func(e *backstage.Entity) []backstage.Ref {
		refs := make([]backstage.Ref, 0, len(e.Relations))
		for start := 0; start < len(e.Relations); { // sorted by type
			end := start + 1
			for end < len(e.Relations) && e.Relations[end].Type == e.Relations[start].Type {
				end++
			}
			ofType := make([]backstage.Ref, end-start)
			for i, rel := range e.Relations[start:end] {
				ofType[i] = rel.Target
			}
			refs = append(refs, firstOfEachKind(ofType, RelationListMax)...)
			start = end
		}
		return refs
	})
	if err != nil {
		return nil, err
	}
	return model.WrapEntity(found[r.To()], next), nil
}

// entityLocation is the registered location an entity came from.
func entityLocation(ctx context.Context, obj model.Entity) (*model.Location, error) {
	if obj.Cohort().Partial() {
		return nil, errSummary(obj)
	}
	locs, err := obj.Cohort().Locations(ctx)
	if err != nil {
		return nil, err
	}
	l, ok := locs[obj.Value().LocationID]
	if !ok {
		return nil, nil
	}
	return model.NewLocation(obj.Cohort().Service(), l), nil
}

// ownedEntities pages the entities an owner owns.
func (r *Resolver) ownedEntities(ctx context.Context, obj model.Entity, descendants bool, filter *model.EntityFilter, orderBy *model.EntityOrder, first *int, after *string) (*model.EntityConnection, error) {
	f := filter.Filter()
	f.Owners = []string{obj.Value().Ref.String()}
	f.IncludeDescendants = descendants
	c, err := r.entities(ctx, f, orderBy, first, after)
	return c, underFilter(err)
}

// entities runs a catalog query and wraps the page.
func (r *Resolver) entities(ctx context.Context, f catalog.Filter, orderBy *model.EntityOrder, first *int, after *string) (*model.EntityConnection, error) {
	if first != nil && *first < 1 {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", catalog.MaxPageSize, *first)
	}
	q := catalog.Query{Filter: f, Order: orderBy.Order(), First: deref(first, 50), After: deref(after, ""),
		Summaries: summariesSuffice(ctx), Count: totalCountSelected(ctx)}
	page, err := r.Catalog.Find(ctx, q)
	if err != nil {
		return nil, err
	}
	return model.NewEntityConnection(r.Catalog, f, page), nil
}

// totalCountSelected says whether the field being resolved in ctx, one returning an
// EntityConnection, selects its totalCount: the page's statement then counts too.
func totalCountSelected(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, entityConnectionImplementors) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// listArg is one list argument of a filter, for checkListArgs.
type listArg struct {
	field string
	n     int
}

// catalogFilterFields are the members of EntityFilter that the catalog's errors about a filter
// name (catalog.Filter's fields, as the input spells them).
var catalogFilterFields = map[string]bool{"text": true, "kinds": true, "namespaces": true, "types": true, "lifecycles": true,
	"owners": true, "systems": true, "tags": true, "annotations": true, "includeDescendantGroups": true}

// underFilter names the input of a catalog error about a filter given as a field's filter
// argument as GraphQL does, filter.text, as the other domains' filters name theirs
// (filter.assignee, filter.states): the catalog names the filter's own fields (text).
func underFilter(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	head := e.Field
	if i := strings.IndexAny(head, ".["); i >= 0 {
		head = head[:i]
	}
	if !catalogFilterFields[head] {
		return err
	}
	named := *e
	named.Field = "filter." + e.Field
	if strings.HasPrefix(e.Message, e.Field) {
		named.Message = "filter." + e.Message
	}
	return &named
}

// checkListArgs refuses a filter with a list longer than catalog.MaxFilterValues, naming the
// field: each value becomes a SQL variable, and 100,000 of them failed as an internal error.
func checkListArgs(lists ...listArg) error {
	for _, l := range lists {
		if l.n > catalog.MaxFilterValues {
			return errs.InvalidField(l.field, "has %d values; at most %d are accepted", l.n, catalog.MaxFilterValues)
		}
	}
	return nil
}

// entityWithTargets is Query.entity for a selection that shows the entity's readTogether targets
// as summaries (targets, targetsShownAsSummaries), or the entity itself as its summary with its
// relations (summary, entitySummaryShown), or both: the targets are read by the entity's own
// statement, and the batch allRelated asks for is filled with them; the summary is read without
// the entity's document where the read cache is off.
func entityWithTargets(ctx context.Context, svc *catalog.Service, ref, kind string, targets, summary bool) (model.Entity, error) {
	var types []string
	if targets {
		types = readTogether
	}
	e, read, err := svc.EntityByInputWithTargets(ctx, ref, kind, types, summary)
	if err != nil || e == nil {
		return nil, err
	}
	c := model.NewCohort(svc, []*backstage.Entity{e})
	if read != nil {
		c.Prefill(readTogetherKey, true, read)
	}
	return model.WrapEntity(e, c), nil
}
