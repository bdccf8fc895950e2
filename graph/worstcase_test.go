package graph_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// denseCatalog writes a catalog where every relation fans out: every user is a member of every
// group, every component depends on and consumes many others, systems hold many components.
func denseCatalog(t *testing.T, dir string) int {
	t.Helper()
	const groups, users, systems, apis, components, resources = 10, 60, 5, 50, 150, 20
	var b strings.Builder
	doc := func(format string, args ...any) {
		b.WriteString("---\napiVersion: backstage.io/v1alpha1\n")
		fmt.Fprintf(&b, format, args...)
	}
	doc("kind: Domain\nmetadata: {name: dom}\nspec: {owner: team-0}\n")
	for g := range groups {
		children := []string{}
		if g == 0 {
			for c := 1; c < groups; c++ {
				children = append(children, fmt.Sprintf("team-%d", c))
			}
		}
		doc("kind: Group\nmetadata: {name: team-%d}\nspec: {type: team, children: [%s]}\n", g, strings.Join(children, ", "))
	}
	all := make([]string, groups)
	for g := range all {
		all[g] = fmt.Sprintf("team-%d", g)
	}
	for u := range users {
		doc("kind: User\nmetadata: {name: user-%d}\nspec: {memberOf: [%s]}\n", u, strings.Join(all, ", "))
	}
	for s := range systems {
		doc("kind: System\nmetadata: {name: sys-%d}\nspec: {owner: team-%d, domain: dom}\n", s, s)
	}
	for a := range apis {
		doc("kind: API\nmetadata: {name: api-%d}\nspec: {type: openapi, lifecycle: production, owner: team-%d, system: sys-%d, definition: x}\n",
			a, a%groups, a%systems)
	}
	for c := range components {
		var deps, consumes []string
		for k := 1; k <= 10; k++ {
			deps = append(deps, fmt.Sprintf("component:svc-%d", (c+k)%components))
			consumes = append(consumes, fmt.Sprintf("api-%d", (c+k)%apis))
		}
		deps = append(deps, fmt.Sprintf("resource:res-%d", c%resources))
		parent := ""
		if c >= 10 {
			parent = fmt.Sprintf(", subcomponentOf: svc-%d", c%10)
		}
		doc("kind: Component\nmetadata: {name: svc-%d}\nspec: {type: service, lifecycle: production, owner: team-%d, system: sys-%d, "+
			"dependsOn: [%s], consumesApis: [%s], providesApis: [api-%d]%s}\n",
			c, c%groups, c%systems, strings.Join(deps, ", "), strings.Join(consumes, ", "), c%apis, parent)
	}
	for r := range resources {
		doc("kind: Resource\nmetadata: {name: res-%d}\nspec: {type: database, owner: team-%d, system: sys-%d, dependsOn: [resource:res-%d]}\n",
			r, r%groups, r%systems, (r+1)%resources)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return 1 + groups + users + systems + apis + components + resources
}

// step is one hop of a nested shape: a list field, read from inside a fragment on its type.
type step struct{ on, field string }

// worstShapes are nested relation lists of every kind, each repeated as deep as the depth limit
// lets it, under a root that selects one entity of the kind the chain starts from. Each chain
// comes back to its first type (through Entity where a field returns any kind).
var worstShapes = []struct {
	kind  string
	steps []step
}{
	{"Group", []step{{"Group", "members"}, {"User", "memberOf"}}},
	{"Group", []step{{"Group", "children"}}},
	{"API", []step{{"API", "consumers"}, {"Component", "consumesApis"}}},
	{"API", []step{{"API", "providers"}, {"Component", "providesApis"}}},
	{"Component", []step{{"Component", "dependsOn"}, {"Component", "dependents"}}},
	{"Component", []step{{"Component", "subcomponents"}, {"Component", "dependents"}}},
	{"Resource", []step{{"Resource", "dependsOn"}, {"Resource", "dependents"}}},
	{"System", []step{{"System", "components"}, {"Component", "dependents"}, {"Component", "dependsOn"}}},
	{"System", []step{{"System", "apis"}, {"API", "consumers"}, {"Component", "dependsOn"}}},
	{"System", []step{{"System", "resources"}, {"Resource", "dependents"}}},
	{"Domain", []step{{"Domain", "systems"}, {"System", "components"}, {"Component", "dependsOn"}}},
	{"Domain", []step{{"Domain", "subdomains"}}},
	{"Component", []step{{"Component", "relations"}}}, // relations { target { ... } }: two levels a step
}

// shape builds the query: entities(first: 1) { nodes { <steps repeated n times> { name } } }.
// first is the relation lists' first argument ("" leaves it out).
func shape(kind string, steps []step, n int, first string) string {
	var open, closing strings.Builder
	for i := range n {
		s := steps[i%len(steps)]
		arg := ""
		if first != "" {
			arg = "(first: " + first + ")"
		}
		if s.field == "relations" {
			fmt.Fprintf(&open, "... on %s { relations%s { target { ", s.on, arg)
			closing.WriteString("} } } ")
			continue
		}
		fmt.Fprintf(&open, "... on %s { %s%s { ", s.on, s.field, arg)
		closing.WriteString("} } ")
	}
	return fmt.Sprintf(`{ entities(filter: {kinds: ["%s"]}, first: 1) { nodes { name %s name %s} } }`, kind, open.String(), closing.String())
}

// Every nested shape the limits let through runs within its budget; every other one is refused
// before it runs. With serve's default limits, on a catalog where every relation fans out, each
// answer is refused by the depth or complexity limit, or complete, or stopped by the time budget
// or the response cap; never an internal error, never a partial answer over the cap.
func TestWorstNestedShapesAreRefusedOrAnsweredWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("registers a catalog of 300 densely related entities")
	}
	st := storetest.SQLite(t)
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler), CacheSize: 50000,
	})
	dir := t.TempDir()
	want := denseCatalog(t, dir)
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil || len(res.Errors) > 0 || res.Location.EntityCount != want {
		t.Fatalf("dense catalog: %v, errors %v, %d entities, want %d", err, res.Errors, res.Location.EntityCount, want)
	}
	const maxResponse = graph.DefaultMaxResponseBytes
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{
		MaxDepth: 12, MaxComplexity: 20000, // serve's default Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 500,
	}))

	// The shape of the report: group > members > memberOf > ... eight deep.
	issue := `{entities(filter:{kinds:["Group"]},first:1){nodes{...on Group{members{memberOf{members{memberOf{members{memberOf{members{memberOf{name}}}}}}}}}}}}`
	if got := decodeHTTP(t, postBody(h, strings.NewReader(mustJSON(t, issue)), -1, mediaGraphQLResponse)).onlyError(t); got.Extensions["reason"] != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("the reported query: %+v, want it refused by the complexity limit", got)
	}

	answered, refused := 0, 0
	for _, ws := range worstShapes {
		for _, first := range []string{"", "1", "2", "10", "1000"} {
			for n := 1; n <= 12; n++ {
				q := shape(ws.kind, ws.steps, n, first)
				rec := postBody(h, strings.NewReader(mustJSON(t, q)), -1, mediaGraphQLResponse)
				resp := decodeHTTP(t, rec)
				if len(resp.Errors) == 0 {
					answered++
					if len(resp.Data) > maxResponse {
						t.Errorf("%s: answered %d bytes, over the cap %d", q, len(resp.Data), maxResponse)
					}
					continue
				}
				refused++
				e := resp.Errors[0]
				switch reason := e.Extensions["reason"]; {
				case len(resp.Errors) > 1:
					t.Errorf("%s: %d errors; a refusal is one error: %s", q, len(resp.Errors), resp.raw[:min(len(resp.raw), 500)])
				case e.Extensions["code"] == "INVALID" && (reason == "COMPLEXITY_LIMIT_EXCEEDED" || reason == "DEPTH_LIMIT_EXCEEDED" || reason == "RESPONSE_TOO_LARGE"):
				case e.Extensions["code"] == "UNAVAILABLE" && reason == "TIMEOUT":
				default:
					t.Errorf("%s: error %+v; want a refusal by a limit, or the time budget", q, e)
				}
				if len(resp.Data) > 0 && string(resp.Data) != "null" {
					t.Errorf("%s: refused, yet answered data", q)
				}
			}
		}
	}
	if answered == 0 || refused == 0 {
		t.Errorf("%d shapes answered, %d refused: the test should see both", answered, refused)
	}
	t.Logf("%d shapes answered within the limits, %d refused", answered, refused)
}

func mustJSON(t *testing.T, query string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
