package demo_test

import (
	"io/fs"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/demo"
)

// loaded is the demo catalog as ingestion would see it: every entity reachable from
// catalog-info.yaml, and every file that was read on the way (targets and $text placeholders).
type loaded struct {
	byRef map[string]*backstage.Entity
	read  map[string]bool
}

// load follows the Location entities from catalog-info.yaml the way ingestion does, so the test
// fails when a file is not reachable or a target names nothing, not only when a document is wrong.
func load(t *testing.T, fsys fs.FS) loaded {
	t.Helper()
	l := loaded{byRef: map[string]*backstage.Entity{}, read: map[string]bool{}}
	queue := []string{"catalog-info.yaml"}
	l.read["catalog-info.yaml"] = true
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			t.Errorf("read %s: %v", file, err)
			continue
		}
		resolve := func(target string) ([]byte, error) {
			name := path.Join(path.Dir(file), target)
			l.read[name] = true
			return fs.ReadFile(fsys, name)
		}
		res := backstage.Parse(file, data, resolve)
		for _, e := range res.Errors() {
			t.Errorf("%s: %+v", file, e)
		}
		for _, doc := range res.Documents {
			e := doc.Entity
			if e == nil {
				continue
			}
			ref := e.Ref.String()
			if _, dup := l.byRef[ref]; dup {
				t.Errorf("%s: %s is defined twice", file, ref)
			}
			l.byRef[ref] = e
			if e.Kind != backstage.KindLocation {
				continue
			}
			var targets []string
			if s := e.SpecString("target"); s != "" {
				targets = append(targets, s)
			}
			if list, ok := e.Spec["targets"].([]any); ok {
				for _, v := range list {
					s, _ := v.(string)
					targets = append(targets, s)
				}
			}
			for _, target := range targets {
				names, err := fs.Glob(fsys, path.Join(path.Dir(file), target))
				if err != nil || len(names) == 0 {
					t.Errorf("%s: target %q names no file (err %v)", ref, target, err)
				}
				for _, n := range names {
					if !l.read[n] {
						l.read[n] = true
						queue = append(queue, n)
					}
				}
			}
		}
	}
	return l
}

func TestDemoCatalogIsCompleteAndValid(t *testing.T) {
	fsys := demo.FS()
	l := load(t, fsys)

	var catalogInfos []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if path.Base(p) == "catalog-info.yaml" {
			catalogInfos = append(catalogInfos, p)
		}
		if !l.read[p] {
			t.Errorf("%s is embedded but no target or placeholder reads it", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Embedded locations start from every catalog-info.yaml; a second one would be read twice.
	if !slices.Equal(catalogInfos, []string{"catalog-info.yaml"}) {
		t.Errorf("catalog-info.yaml files = %v, want only the one at the root", catalogInfos)
	}

	counts := map[string]int{}
	for _, e := range l.byRef {
		counts[e.Kind]++
	}
	t.Logf("entities by kind: %v", counts)
	for kind, least := range map[string]int{
		backstage.KindLocation: 1, backstage.KindDomain: 3, backstage.KindSystem: 7, backstage.KindComponent: 25,
		backstage.KindAPI: 12, backstage.KindResource: 9, backstage.KindGroup: 10, backstage.KindUser: 9,
	} {
		if counts[kind] < least {
			t.Errorf("%d entities of kind %s, want at least %d", counts[kind], kind, least)
		}
	}

	for _, ref := range slices.Sorted(maps.Keys(l.byRef)) {
		e := l.byRef[ref]
		for _, r := range e.Relations {
			if l.byRef[r.Target.String()] == nil {
				t.Errorf("%s %s %s: no such entity", ref, r.Type, r.Target)
			}
		}
		if !e.Owner.IsZero() && l.byRef[e.Owner.String()] == nil {
			t.Errorf("%s: owner %s does not exist", ref, e.Owner)
		}
		if !e.System.IsZero() && l.byRef[e.System.String()] == nil {
			t.Errorf("%s: system %s does not exist", ref, e.System)
		}
	}
}

var (
	nameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	tagRE  = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
)

// TestDemoCatalogFollowsConventions checks what the parser may accept but a good demo must still
// get right, because people copy from it: complete specs, lower-case tags, annotations later
// features read, and links that stay inside the fictional acme.example.
func TestDemoCatalogFollowsConventions(t *testing.T) {
	l := load(t, demo.FS())
	for _, ref := range slices.Sorted(maps.Keys(l.byRef)) {
		e := l.byRef[ref]
		if len(e.Metadata.Name) > 63 || !nameRE.MatchString(e.Metadata.Name) {
			t.Errorf("%s: name %q is not a valid Backstage name", ref, e.Metadata.Name)
		}
		for _, tag := range e.Metadata.Tags {
			if len(tag) > 63 || !tagRE.MatchString(tag) {
				t.Errorf("%s: tag %q is not a valid Backstage tag", ref, tag)
			}
		}
		for _, link := range e.Metadata.Links {
			u, err := url.Parse(link.URL)
			if err != nil || u.Scheme != "https" || !(u.Host == "acme.example" || strings.HasSuffix(u.Host, ".acme.example")) {
				t.Errorf("%s: link %q should be an https URL on acme.example", ref, link.URL)
			}
		}
		switch e.Kind {
		case backstage.KindComponent:
			if e.Type == "" || e.Lifecycle == "" || e.Owner.IsZero() || e.System.IsZero() {
				t.Errorf("%s: type %q, lifecycle %q, owner %v, system %v: all are required in the demo", ref, e.Type, e.Lifecycle, e.Owner, e.System)
			}
			if !slices.Contains([]string{"production", "experimental", "deprecated"}, e.Lifecycle) {
				t.Errorf("%s: lifecycle %q", ref, e.Lifecycle)
			}
			a := e.Metadata.Annotations
			if a["github.com/project-slug"] == "" || a["backstage.io/techdocs-ref"] != "dir:." {
				t.Errorf("%s: wants github.com/project-slug and backstage.io/techdocs-ref annotations, has %v", ref, a)
			}
			if e.Type != "library" && a["argocd/app-name"] == "" {
				t.Errorf("%s: a deployable %s wants an argocd/app-name annotation", ref, e.Type)
			}
		case backstage.KindAPI:
			def := e.SpecString("definition")
			if e.Type == "" || e.Lifecycle == "" || e.Owner.IsZero() || e.System.IsZero() || strings.TrimSpace(def) == "" {
				t.Errorf("%s: type %q, lifecycle %q, owner %v, system %v, definition of %d bytes: all are required", ref, e.Type, e.Lifecycle, e.Owner, e.System, len(def))
			}
			if e.Type == "openapi" && !strings.HasPrefix(def, "openapi: 3.") {
				t.Errorf("%s: definition does not start as an OpenAPI 3 document: %.40q", ref, def)
			}
		case backstage.KindResource:
			if e.Type == "" || e.Owner.IsZero() || e.System.IsZero() {
				t.Errorf("%s: type %q, owner %v, system %v: all are required in the demo", ref, e.Type, e.Owner, e.System)
			}
		}
	}
	// At least two APIs must show the $text placeholder, so the demo exercises it.
	texts := 0
	for name := range l.read {
		if strings.HasPrefix(name, "apis/") {
			texts++
		}
	}
	if texts < 2 {
		t.Errorf("%d API definitions are read through $text, want at least 2", texts)
	}
}

// TestDemoOrganisation checks the group tree and memberships the demo login users depend on.
func TestDemoOrganisation(t *testing.T) {
	l := load(t, demo.FS())
	group := func(name string) string { return backstage.MakeRef(backstage.KindGroup, "", name).String() }
	user := func(name string) string { return backstage.MakeRef(backstage.KindUser, "", name).String() }

	// Each edge is declared on both ends (parent and children, memberOf and members); the two
	// declarations must agree, or the hierarchy differs depending on which end is read.
	type edge struct{ from, to string }
	declared := map[string]map[edge]bool{"childOf": {}, "memberOf": {}}
	for ref, e := range l.byRef {
		for _, r := range e.Relations {
			switch r.Type {
			case backstage.RelChildOf:
				declared["childOf"][edge{ref, r.Target.String()}] = true
			case backstage.RelParentOf:
				declared["childOf"][edge{r.Target.String(), ref}] = true
			case backstage.RelMemberOf:
				declared["memberOf"][edge{ref, r.Target.String()}] = true
			case backstage.RelHasMember:
				declared["memberOf"][edge{r.Target.String(), ref}] = true
			}
		}
	}
	for ref, e := range l.byRef {
		switch e.Kind {
		case backstage.KindGroup:
			if e.Type == "" {
				t.Errorf("%s has no spec.type", ref)
			}
			if _, ok := e.Spec["children"]; !ok {
				t.Errorf("%s has no spec.children", ref)
			}
		case backstage.KindUser:
			if len(e.RelationsOfType(backstage.RelMemberOf)) == 0 {
				t.Errorf("%s is a member of no group", ref)
			}
		}
	}
	for kind, edges := range declared {
		for ed := range edges {
			from, to := l.byRef[ed.from], l.byRef[ed.to]
			if from == nil || to == nil {
				continue // reported by TestDemoCatalogIsCompleteAndValid
			}
			forward, inverse := backstage.RelChildOf, backstage.RelParentOf
			if kind == "memberOf" {
				forward, inverse = backstage.RelMemberOf, backstage.RelHasMember
			}
			if !hasRelation(from, forward, ed.to) || !hasRelation(to, inverse, ed.from) {
				t.Errorf("%s %s %s is declared on one end only", ed.from, forward, ed.to)
			}
		}
	}
	if n := len(declared["childOf"]); n < 10 {
		t.Errorf("%d parent/child edges; the demo wants a real hierarchy", n)
	}

	for _, tc := range []struct {
		user   string
		groups []string
	}{
		{"alice", []string{group("team-platform")}},
		{"bob", []string{group("team-payments")}},
		{"carol", []string{group("product")}},
	} {
		u := l.byRef[user(tc.user)]
		if u == nil {
			t.Errorf("demo login user %s is missing", tc.user)
			continue
		}
		var got []string
		for _, r := range u.RelationsOfType(backstage.RelMemberOf) {
			got = append(got, r.String())
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.groups) {
			t.Errorf("%s is a member of %v, want %v", tc.user, got, tc.groups)
		}
	}

	// bob is an owner through team-payments: the team owns the payments system and all in it.
	payments := l.byRef["system:default/payments"]
	if payments == nil || payments.Owner.String() != group("team-payments") {
		t.Errorf("system payments = %v, want it owned by team-payments", payments)
	}
	// alice's team owns the delivery and portal systems.
	for _, sys := range []string{"system:default/delivery", "system:default/portal"} {
		if e := l.byRef[sys]; e == nil || e.Owner.String() != group("team-platform") {
			t.Errorf("%s should exist and be owned by team-platform", sys)
		}
	}
	ownedByPayments := 0
	for ref, e := range l.byRef {
		if e.System.String() == "system:default/payments" {
			if e.Owner.String() != group("team-payments") {
				t.Errorf("%s is in the payments system but owned by %s", ref, e.Owner)
			}
			ownedByPayments++
		}
		// carol must stay a plain viewer: neither she nor her only group owns anything.
		if o := e.Owner.String(); o == user("carol") || o == group("product") {
			t.Errorf("%s is owned by %s; carol must own nothing", ref, o)
		}
	}
	if ownedByPayments < 5 {
		t.Errorf("team-payments owns %d entities of the payments system, want a realistic handful", ownedByPayments)
	}
}

func hasRelation(e *backstage.Entity, relationType, target string) bool {
	for _, r := range e.RelationsOfType(relationType) {
		if r.String() == target {
			return true
		}
	}
	return false
}
