package catalog

import (
	"reflect"
	"testing"
)

// onlyText decides when a count may be read from the full-text index alone: any other field set
// must make it false, so a field added to Filter and forgotten there fails here.
func TestOnlyTextSeesEveryOtherFilterField(t *testing.T) {
	typ := reflect.TypeOf(Filter{})
	for i := range typ.NumField() {
		field := typ.Field(i)
		if field.Name == "Text" || field.Name == "IncludeDescendants" { // the latter only widens Owners
			continue
		}
		var f Filter
		v := reflect.ValueOf(&f).Elem().Field(i)
		switch v.Kind() {
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		case reflect.Int64, reflect.Int:
			v.SetInt(1)
		case reflect.Bool:
			v.SetBool(true)
		default:
			t.Fatalf("Filter.%s is a %s: teach this test (and onlyText) about it", field.Name, v.Kind())
		}
		if f.onlyText() {
			t.Errorf("with Filter.%s set, onlyText is still true", field.Name)
		}
	}
}

// countedField lets a count be a sum of kept counts only where that sum is exact: one field
// besides kinds, with values an entity has one of (or a single tag), none of them empty; the
// values spelled as the counts keep them.
func TestCountedFieldIsOneFieldWhoseKeptCountsAddUp(t *testing.T) {
	for _, c := range []struct {
		filter Filter
		field  string
		values []string
	}{
		{Filter{Owners: []string{"payments", "user:Default/Ann"}}, "owner", []string{"group:default/payments", "user:default/ann"}},
		{Filter{Owners: []string{"payments"}, Kinds: []string{"Component"}}, "owner", []string{"group:default/payments"}},
		{Filter{Systems: []string{"checkout"}}, "system", []string{"system:default/checkout"}},
		{Filter{Namespaces: []string{"Tools"}}, "namespace", []string{"tools"}},
		{Filter{Types: []string{"service", "website"}}, "type", []string{"service", "website"}},
		{Filter{Lifecycles: []string{"production"}}, "lifecycle", []string{"production"}},
		{Filter{Tags: []string{"PCI", "pci"}}, "tag", []string{"pci", "pci"}},
		{Filter{Tags: []string{"pci", "go"}}, "", nil},                                    // an entity with both is kept under each
		{Filter{Types: []string{""}}, "", nil},                                            // empty values are not kept
		{Filter{Types: []string{"service"}, Lifecycles: []string{"production"}}, "", nil}, // two fields
		{Filter{Owners: []string{"platform"}, IncludeDescendants: true}, "", nil},
		{Filter{Owners: []string{"payments"}, Text: "pay"}, "", nil},
		{Filter{Owners: []string{"payments"}, LocationID: 1}, "", nil},
		{Filter{Owners: []string{"payments"}, Annotations: []AnnotationFilter{{Key: "a"}}}, "", nil},
		{Filter{IncludeDescendants: true, Types: []string{"service"}}, "type", []string{"service"}},
	} {
		field, values, err := c.filter.countedField()
		if err != nil {
			t.Fatalf("%+v: %v", c.filter, err)
		}
		if field != c.field || !reflect.DeepEqual(values, c.values) {
			t.Errorf("%+v: counted field %q %q, want %q %q", c.filter, field, values, c.field, c.values)
		}
	}
	if _, _, err := (Filter{Owners: []string{"group:"}}).countedField(); err == nil {
		t.Error("a bad owner ref was not refused")
	}
}
