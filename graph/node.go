package graph

import (
	"context"
	"strconv"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
)

// node resolves a global ID; an ID of something that does not exist gives null.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	typ, key, err := model.DecodeID(id)
	if err != nil {
		return nil, err
	}
	if typ == "Location" {
		n, convErr := strconv.ParseInt(key, 10, 64)
		if convErr != nil {
			return nil, errs.InvalidField("id", "%q is not a Portside ID", id)
		}
		l, err := r.Catalog.Location(ctx, n)
		if errs.Is(err, errs.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return model.NewLocation(r.Catalog, *l), nil
	}
	if typ == "Rollout" {
		n, err := model.NumericID("id", "Rollout", id)
		if err != nil {
			return nil, err
		}
		ro, err := r.RolloutService.Rollout(ctx, n)
		if errs.Is(err, errs.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return model.NewRollout(ro), nil
	}
	kind := model.KindOfTypename(typ)
	if kind == "" {
		return nil, errs.InvalidField("id", "%q is not a Portside ID", id)
	}
	ref, err := catalog.ParseRef(key, "", catalog.DefaultNamespace)
	if err != nil || !equalFold(ref.Kind, kind) {
		return nil, errs.InvalidField("id", "%q is not a Portside ID", id)
	}
	got, err := r.Catalog.EntitiesByRef(ctx, []catalog.Ref{ref})
	if err != nil || got[ref] == nil {
		return nil, err
	}
	return model.WrapEntity(got[ref], model.NewCohort(r.Catalog, []*catalog.Entity{got[ref]})), nil
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && catalog.CanonicalKind(a) == catalog.CanonicalKind(b)
}

// setComplexity makes connections cost their page size times what each item selects, so one
// query cannot ask for 500 entities with 500 relations each.
func setComplexity(c *ComplexityRoot) {
	page := func(child int, first *int) int { return 1 + child*pageCost(first) }
	c.Query.Entities = func(child int, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string) int {
		return page(child, first)
	}
	c.Query.Locations = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Group.OwnedEntities = func(child int, _ *bool, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string) int {
		return page(child, first)
	}
	c.User.OwnedEntities = func(child int, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string) int {
		return page(child, first)
	}
	c.Location.Entities = func(child int, first *int, _ *string) int { return page(child, first) }
	// A location's errors are a page too: without a weight, aliases of a large error list
	// answered hundreds of megabytes to one viewer's query.
	c.Location.Errors = func(child int, first *int) int { return page(child, first) }
	c.Query.Rollouts = func(child int, _ *model.RolloutFilter, first *int, _ *string) int { return page(child, first) }
	c.Component.Rollouts = func(child int, _ *model.ComponentRolloutFilter, first *int, _ *string) int {
		return page(child, first)
	}
	// DORA metrics read a window of history: in a list of 50 components they weigh like 50 pages.
	dora := func(child int, _ *time.Time, _ *time.Time) int { return doraCost + child }
	c.Component.Dora, c.System.Dora, c.Group.Dora, c.Query.Dora = dora, dora, dora, dora
	// Sync windows are asked of Argo CD, one call per deployment.
	c.Deployment.SyncWindows = func(child int) int { return syncWindowsCost + child }
}

// doraCost is the complexity of one DORA metrics field.
const doraCost = 50

// syncWindowsCost is the complexity of asking Argo CD for one deployment's sync windows.
const syncWindowsCost = 10
