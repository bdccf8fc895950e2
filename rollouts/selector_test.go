package rollouts_test

import (
	"reflect"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

func TestSelectorsComeFromBackstagesArgoCDAnnotations(t *testing.T) {
	for _, tc := range []struct {
		name string
		ann  map[string]string
		want rollouts.Selector
		ok   bool
	}{
		{"no annotations", map[string]string{"backstage.io/techdocs-ref": "dir:."}, rollouts.Selector{}, false},
		{"one name", map[string]string{"argocd/app-name": "payments"}, rollouts.Selector{Names: []string{"payments"}}, true},
		{"several names, spaces and a stray comma", map[string]string{"argocd/app-name": " payments-prod, payments-staging ,"},
			rollouts.Selector{Names: []string{"payments-prod", "payments-staging"}}, true},
		{"a selector on one instance and namespace", map[string]string{
			"argocd/app-selector": "app.kubernetes.io/part-of=payments", "argocd/instance-name": "prod", "argocd/app-namespace": "team-payments"},
			rollouts.Selector{Labels: "app.kubernetes.io/part-of=payments", Instance: "prod", AppNamespace: "team-payments"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := rollouts.SelectorOf(tc.ann)
			if err != nil || ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SelectorOf = %+v, %v, %v; want %+v, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestContradictoryOrEmptyAnnotationsAreRefusedByName(t *testing.T) {
	for _, tc := range []struct {
		ann   map[string]string
		field string
	}{
		{map[string]string{"argocd/app-name": "a", "argocd/app-selector": "x=y"}, "argocd/app-name"},
		{map[string]string{"argocd/app-name": " , "}, "argocd/app-name"},
		{map[string]string{"argocd/app-selector": "  "}, "argocd/app-selector"},
	} {
		_, ok, err := rollouts.SelectorOf(tc.ann)
		if ok || !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
			t.Errorf("SelectorOf(%v) = %v, %v; want INVALID naming %s", tc.ann, ok, err, tc.field)
		}
	}
}

func TestASelectorWithoutInstanceLooksEverywhere(t *testing.T) {
	if !(rollouts.Selector{}).OnInstance("prod") || !(rollouts.Selector{Instance: "prod"}).OnInstance("prod") ||
		(rollouts.Selector{Instance: "prod"}).OnInstance("staging") {
		t.Error("OnInstance: an unnamed instance means all, a named one only itself")
	}
}
