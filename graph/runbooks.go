package graph

// Helpers of the runbooks resolvers.

import (
	"context"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/runbooks"
)

// runbookPayload answers a runbook mutation.
func runbookPayload(rb runbooks.Runbook, err error) (*model.RunbookPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.RunbookPayload{Runbook: model.NewRunbook(rb)}, nil
}

// searchFirst reads the first argument of a part of search (10 by default): both parts are
// documented as 1 to runbooks.MaxPage, so both are held to it here, where the bound is known. The
// catalog's own check would allow up to catalog.MaxPageSize and name that bound instead.
func searchFirst(first *int) (int, error) {
	n := deref(first, 10)
	if n < 1 || n > runbooks.MaxPage {
		return 0, errs.InvalidField("first", "must be between 1 and %d, got %d", runbooks.MaxPage, n)
	}
	return n, nil
}

// catalogLinks returns the links of one kind an entity's catalog entry declares.
func (r *Resolver) catalogLinks(ctx context.Context, e *backstage.Entity, kind runbooks.LinkKind, environment string) ([]*model.CatalogLink, error) {
	all, _, err := r.RunbookService.EntityLinks(ctx, e, environment)
	if err != nil {
		return nil, err
	}
	var out []runbooks.EntityLink
	for _, l := range all {
		if l.Kind == kind {
			out = append(out, l)
		}
	}
	return model.NewCatalogLinks(out), nil
}

// linkedEntities loads the entities a runbook is linked to, in its order; refs no longer in the
// catalog are left out.
func (r *Resolver) linkedEntities(ctx context.Context, refs []string) ([]model.Entity, error) {
	parsed := make([]backstage.Ref, 0, len(refs))
	for _, s := range refs {
		if ref, err := backstage.ParseRef(s, "", backstage.DefaultNamespace); err == nil {
			parsed = append(parsed, ref)
		}
	}
	found, err := r.Catalog.EntitiesByRef(ctx, parsed)
	if err != nil {
		return nil, err
	}
	list := make([]*backstage.Entity, 0, len(parsed))
	for _, ref := range parsed {
		if e := found[ref]; e != nil {
			list = append(list, e)
		}
	}
	return model.WrapEntities(r.Catalog, list), nil
}
