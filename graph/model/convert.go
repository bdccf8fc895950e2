package model

import (
	"context"
	"strings"

	"github.com/portside-dev/portside/catalog"
)

// Filter converts the GraphQL filter input.
func (f *EntityFilter) Filter() catalog.Filter {
	if f == nil {
		return catalog.Filter{}
	}
	out := catalog.Filter{
		Kinds: f.Kinds, Namespaces: f.Namespaces, Types: f.Types, Lifecycles: f.Lifecycles,
		Owners: f.Owners, Systems: f.Systems, Tags: f.Tags,
	}
	if f.Text != nil {
		out.Text = *f.Text
	}
	if f.IncludeDescendantGroups != nil {
		out.IncludeDescendants = *f.IncludeDescendantGroups
	}
	for _, a := range f.Annotations {
		out.Annotations = append(out.Annotations, catalog.AnnotationFilter{Key: a.Key, Value: a.Value})
	}
	return out
}

// Order converts the GraphQL order input.
func (o *EntityOrder) Order() catalog.Order {
	if o == nil {
		return catalog.Order{}
	}
	out := catalog.Order{Descending: o.Direction != nil && *o.Direction == OrderDirectionDesc}
	switch o.Field {
	case EntityOrderFieldKind:
		out.Field = catalog.OrderByKind
	case EntityOrderFieldUpdatedAt:
		out.Field = catalog.OrderByUpdatedAt
	default:
		out.Field = catalog.OrderByName
	}
	return out
}

// FacetFieldOf maps a GraphQL facet field to the catalog's.
func FacetFieldOf(f FacetField) catalog.FacetField {
	return catalog.FacetField(strings.ToLower(string(f)))
}

// Spec converts the registration input.
func (in RegisterLocationInput) Spec() catalog.LocationSpec {
	spec := catalog.LocationSpec{Type: catalog.LocationType(strings.ToLower(string(in.Type))), Target: in.Target}
	if in.Ref != nil {
		spec.Ref = *in.Ref
	}
	if in.Path != nil {
		spec.Path = *in.Path
	}
	return spec
}

// NewFacets counts entities by the requested fields, in the order they were asked for.
func NewFacets(ctx context.Context, svc *catalog.Service, f catalog.Filter, fields []FacetField, limit int) ([]*Facet, error) {
	want := make([]catalog.FacetField, len(fields))
	for i, field := range fields {
		want[i] = FacetFieldOf(field)
	}
	got, err := svc.Facets(ctx, f, want, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Facet, len(fields))
	for i, field := range fields {
		values := make([]*FacetValue, len(got[want[i]]))
		for j, v := range got[want[i]] {
			values[j] = &FacetValue{Value: v.Value, Count: v.Count}
		}
		out[i] = &Facet{Field: field, Values: values}
	}
	return out, nil
}
