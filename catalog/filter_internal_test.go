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
