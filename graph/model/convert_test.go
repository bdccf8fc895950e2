package model_test

import (
	"reflect"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
)

func TestAnEntityFilterInputBecomesTheCatalogsFilter(t *testing.T) {
	value := "payments-api"
	tests := []struct {
		name string
		in   *model.EntityFilter
		want catalog.Filter
	}{
		{"no filter", nil, catalog.Filter{}},
		{"an empty filter", &model.EntityFilter{}, catalog.Filter{}},
		{"every field", &model.EntityFilter{
			Text: ptr("pay api"), Kinds: []string{"Component"}, Namespaces: []string{"default"}, Types: []string{"service"},
			Lifecycles: []string{"production"}, Owners: []string{"team-a"}, IncludeDescendantGroups: ptr(true),
			Systems: []string{"shop"}, Tags: []string{"go"},
			Annotations: []*model.AnnotationFilter{{Key: "argocd/app-name", Value: &value}, {Key: "backstage.io/techdocs-ref"}},
		}, catalog.Filter{
			Text: "pay api", Kinds: []string{"Component"}, Namespaces: []string{"default"}, Types: []string{"service"},
			Lifecycles: []string{"production"}, Owners: []string{"team-a"}, IncludeDescendants: true,
			Systems: []string{"shop"}, Tags: []string{"go"},
			Annotations: []catalog.AnnotationFilter{{Key: "argocd/app-name", Value: &value}, {Key: "backstage.io/techdocs-ref"}},
		}},
		{"descendant groups turned off", &model.EntityFilter{Owners: []string{"team-a"}, IncludeDescendantGroups: ptr(false)},
			catalog.Filter{Owners: []string{"team-a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Filter(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Filter() = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAnEntityOrderInputBecomesTheCatalogsOrder(t *testing.T) {
	asc, desc := model.OrderDirectionAsc, model.OrderDirectionDesc
	tests := []struct {
		name string
		in   *model.EntityOrder
		want catalog.Order
	}{
		{"no order: the catalog's default", nil, catalog.Order{}},
		{"by name", &model.EntityOrder{Field: model.EntityOrderFieldName}, catalog.Order{Field: catalog.OrderByName}},
		{"by kind, ascending", &model.EntityOrder{Field: model.EntityOrderFieldKind, Direction: &asc}, catalog.Order{Field: catalog.OrderByKind}},
		{"by last update, descending", &model.EntityOrder{Field: model.EntityOrderFieldUpdatedAt, Direction: &desc},
			catalog.Order{Field: catalog.OrderByUpdatedAt, Descending: true}},
		{"by name, descending", &model.EntityOrder{Field: model.EntityOrderFieldName, Direction: &desc},
			catalog.Order{Field: catalog.OrderByName, Descending: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Order(); got != tt.want {
				t.Errorf("Order() = %+v, want %+v", got, tt.want)
			}
		})
	}
	// Every field the schema offers has its own order in the catalog.
	seen := map[catalog.OrderField]model.EntityOrderField{}
	for _, f := range model.AllEntityOrderField {
		got := (&model.EntityOrder{Field: f}).Order().Field
		if other, dup := seen[got]; dup {
			t.Errorf("order fields %s and %s both sort by %q", other, f, got)
		}
		seen[got] = f
	}
}

func TestEveryFacetFieldOfTheSchemaIsACatalogFacet(t *testing.T) {
	want := map[model.FacetField]catalog.FacetField{
		model.FacetFieldKind: catalog.FacetKind, model.FacetFieldType: catalog.FacetType,
		model.FacetFieldLifecycle: catalog.FacetLifecycle, model.FacetFieldOwner: catalog.FacetOwner,
		model.FacetFieldNamespace: catalog.FacetNamespace, model.FacetFieldSystem: catalog.FacetSystem,
		model.FacetFieldTag: catalog.FacetTag,
	}
	for _, f := range model.AllFacetField {
		w, known := want[f]
		if got := model.FacetFieldOf(f); !known || got != w {
			t.Errorf("FacetFieldOf(%s) = %q; want %q", f, got, w)
		}
	}
}

func TestARegistrationInputBecomesALocationSpec(t *testing.T) {
	types := map[model.LocationType]catalog.LocationType{
		model.LocationTypeFile: catalog.LocationFile, model.LocationTypeURL: catalog.LocationURL,
		model.LocationTypeGit: catalog.LocationGit, model.LocationTypeEmbedded: catalog.LocationEmbedded,
	}
	for _, typ := range model.AllLocationType {
		in := model.RegisterLocationInput{Type: typ, Target: "t"}
		if got := in.Spec(); got != (catalog.LocationSpec{Type: types[typ], Target: "t"}) || got.Type == "" {
			t.Errorf("type %s: spec %+v; want type %q, target t, no ref or path", typ, got, types[typ])
		}
	}
	in := model.RegisterLocationInput{Type: model.LocationTypeGit, Target: "https://git.example.com/team/repo.git", Ref: ptr("main"), Path: ptr("services/*")}
	want := catalog.LocationSpec{Type: catalog.LocationGit, Target: "https://git.example.com/team/repo.git", Ref: "main", Path: "services/*"}
	if got := in.Spec(); got != want {
		t.Errorf("spec %+v, want %+v", got, want)
	}
}

// A token's scopes left out are both; listed empty they would read as none and act as both, so
// an empty list is INVALID naming scopes.
func TestATokensEmptyScopesAreInvalid(t *testing.T) {
	if _, err := (model.CreateAPITokenInput{Name: "x", Scopes: []string{}}).Spec(); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "scopes" {
		t.Errorf("scopes: []: %v, want INVALID naming scopes", err)
	}
	spec, err := model.CreateAPITokenInput{Name: "x"}.Spec()
	if err != nil || spec.Scopes != nil {
		t.Errorf("scopes left out: %+v, %v", spec, err)
	}
	if spec, err := (model.CreateAPITokenInput{Name: "x", Scopes: []string{"read"}}).Spec(); err != nil || len(spec.Scopes) != 1 {
		t.Errorf("scopes [read]: %+v, %v", spec, err)
	}
}
