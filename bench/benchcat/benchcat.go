// Package benchcat is what Portside's benchmarks share: the inputs bench/gencatalog writes next to
// a generated catalog (queries.json), the GraphQL operations the load driver and the Go benchmarks
// send, and a generated catalog made once per machine for Go benchmarks, so that `go test -bench`
// and `go run ./bench/load` measure the same shapes of request against the same shape of data.
package benchcat

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Queries are the load inputs bench/gencatalog draws from the catalog it generates.
type Queries struct {
	Seed uint64 `json:"seed"`
	// Components are full refs of existing components.
	Components []string `json:"components"`
	// Owners are full refs of groups that own at least one component.
	Owners []string `json:"owners"`
	// SearchWords each match between 10 and 500 components.
	SearchWords []string `json:"searchWords"`
	// SearchMatches is how many components each search word matches as a whole word.
	SearchMatches map[string]int `json:"searchMatches"`
	// Deployed are components whose argocd/app-name annotation names an application called like
	// the component (the load driver's scripted Argo CD has one for each).
	Deployed []string `json:"deployed"`
}

// ReadQueries reads DIR/queries.json of a generated catalog.
func ReadQueries(dir string) (*Queries, error) {
	data, err := os.ReadFile(filepath.Join(dir, "queries.json"))
	if err != nil {
		return nil, err
	}
	var q Queries
	if err := json.Unmarshal(data, &q); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "queries.json"), err)
	}
	if len(q.Components) == 0 || len(q.Owners) == 0 || len(q.SearchWords) == 0 {
		return nil, fmt.Errorf("%s: no components, owners or search words", filepath.Join(dir, "queries.json"))
	}
	return &q, nil
}

// Operation is one GraphQL query the benchmarks send, with one variable that takes each of a list
// of values drawn from Queries.
type Operation struct {
	// Name is short and file-name safe: "entity", "owner-page", ...
	Name string
	// Title says what the operation is, for reports.
	Title string
	// Query is the GraphQL document.
	Query string
	// Var is the name of the document's one variable; empty for a document without variables,
	// which is sent as it is (one body).
	Var string
	// Values picks the variable's values from the generated inputs (nil without Var).
	Values func(*Queries) []string
}

// The operations of the load test, in report order.
var (
	EntityByRef = Operation{
		Name:   "entity",
		Title:  "entity by ref with owner, system and relations",
		Query:  `query($ref:String!){ entity(ref:$ref){ ref name title ... on Component { owner { ref name } system { ref name } } relations { type targetRef } } }`,
		Var:    "ref",
		Values: func(q *Queries) []string { return q.Components },
	}
	OwnerPage = Operation{
		Name:   "owner-page",
		Title:  "owner's components, page of 50 with totalCount",
		Query:  `query($o:String!){ entities(filter:{owners:[$o], kinds:["Component"]}, first:50){ totalCount nodes { ref name title } } }`,
		Var:    "o",
		Values: func(q *Queries) []string { return q.Owners },
	}
	OwnerPageFacets = Operation{
		Name:  "owner-page-facets",
		Title: "owner's page of 50 plus facets (kind, type, lifecycle, tag)",
		Query: `query($o:String!){ entities(filter:{owners:[$o], kinds:["Component"]}, first:50){ totalCount nodes { ref name title } } ` +
			`facets(filter:{owners:[$o]}, fields:[KIND, TYPE, LIFECYCLE, TAG]){ field values { value count } } }`,
		Var:    "o",
		Values: func(q *Queries) []string { return q.Owners },
	}
	ComponentPage = Operation{
		Name:  "component-page",
		Title: "component page: owner, system, deployments and the last 10 rollouts",
		Query: `query($ref:String!){ entity(ref:$ref){ ref name title ... on Component { owner { ref name } system { ref name } ` +
			`deployments { instance application environment cluster namespace syncStatus health revision images lastSyncedAt stale lastSeenAt ` +
			`operation { phase revision startedAt finishedAt } } ` +
			`rollouts(first:10){ totalCount nodes { id revision result startedAt finishedAt initiatedBy historyId images commit { author message } } } } } }`,
		Var:    "ref",
		Values: func(q *Queries) []string { return q.Deployed },
	}
	// ComponentPagePipelines is the component page once pipelines exist: the same plus the
	// component's pipelines, each with its last 5 runs, their stages and artifacts (the fields of
	// the portal's PipelineFields and PipelineRunFields fragments). Not viewerCanOperate: it is
	// the caller's, and an operation that asks for it is never kept by the response cache.
	ComponentPagePipelines = Operation{
		Name:  "component-page-pipelines",
		Title: "component page with its pipelines and their last 5 runs",
		Query: `query($ref:String!){ entity(ref:$ref){ ref name title ... on Component { owner { ref name } system { ref name } ` +
			`deployments { instance application environment cluster namespace syncStatus health revision images lastSyncedAt stale lastSeenAt ` +
			`operation { phase revision startedAt finishedAt } } ` +
			`rollouts(first:10){ totalCount nodes { id revision result startedAt finishedAt initiatedBy historyId images commit { author message } } } ` +
			`pipelines { component name provider repository workflow defaultRef stages parameters { name type description options default required } ` +
			`runs(first:5){ totalCount nodes { id component pipeline provider providerRunId url attempt ref commitSha parameters { name value } ` +
			`triggeredBy client status message stages { name status startedAt finishedAt durationSeconds logUrl } artifacts { name image version } ` +
			`retryOfId createdAt startedAt finishedAt updatedAt } } } } } }`,
		Var:    "ref",
		Values: func(q *Queries) []string { return q.Deployed },
	}
	TextSearch = Operation{
		Name:   "search",
		Title:  "text search, page of 50 with totalCount",
		Query:  `query($w:String!){ entities(filter:{text:$w}, first:50){ totalCount nodes { ref name } } }`,
		Var:    "w",
		Values: func(q *Queries) []string { return q.SearchWords },
	}
)

// Operations lists the load test's operations in report order.
func Operations() []Operation {
	return []Operation{EntityByRef, OwnerPage, OwnerPageFacets, TextSearch, ComponentPage, ComponentPagePipelines}
}

// WholeEntity is every field of an entity as Backstage's catalog API returns it (the document and
// its relations), the field set a Backstage user's tooling asks for.
const WholeEntity = `ref kind name title description tags labels { key value } annotations { key value } spec relations { type targetRef }`

// The operations a Backstage user's tooling sends: whole entities, pages of 50, an owner's facets.
var (
	EntityWhole = Operation{
		Name:   "entity-whole",
		Title:  "entity by ref, whole entity",
		Query:  `query($ref:String!){ entity(ref:$ref){ ` + WholeEntity + ` } }`,
		Var:    "ref",
		Values: func(q *Queries) []string { return q.Components },
	}
	OwnerPageWhole = Operation{
		Name:   "owner-page-whole",
		Title:  "owner's components, page of 50 whole entities with totalCount",
		Query:  `query($o:String!){ entities(filter:{owners:[$o], kinds:["Component"]}, first:50){ totalCount nodes { ` + WholeEntity + ` } } }`,
		Var:    "o",
		Values: func(q *Queries) []string { return q.Owners },
	}
	SearchWhole = Operation{
		Name:   "search-whole",
		Title:  "text search over components, page of 50 whole entities with totalCount",
		Query:  `query($w:String!){ entities(filter:{text:$w, kinds:["Component"]}, first:50){ totalCount nodes { ` + WholeEntity + ` } } }`,
		Var:    "w",
		Values: func(q *Queries) []string { return q.SearchWords },
	}
	OwnerFacets = Operation{
		Name:   "owner-facets",
		Title:  "facets over an owner's entities (kind, type, lifecycle, tag)",
		Query:  `query($o:String!){ facets(filter:{owners:[$o]}, fields:[KIND, TYPE, LIFECYCLE, TAG]){ field values { value count } } }`,
		Var:    "o",
		Values: func(q *Queries) []string { return q.Owners },
	}
)

// BackstageOperations lists the whole-entity operations in report order.
func BackstageOperations() []Operation {
	return []Operation{EntityWhole, OwnerPageWhole, SearchWhole, OwnerFacets}
}

// The catalog page's first view, as the portal asks for it (25 values a facet): facets over the
// whole catalog, and over the components with their first page and totalCount. Each is one
// request whatever the catalog, so with the response cache off its answer still comes from the
// catalog's query cache after the first; measured uncached, the server runs with
// PORTSIDE_CATALOG_CACHE_SIZE=0 too.
var (
	CatalogFacets = Operation{
		Name:  "catalog-facets",
		Title: "facets over the whole catalog (the seven fields, 25 values each)",
		Query: `query{ facets(fields:[KIND, TYPE, LIFECYCLE, OWNER, TAG, SYSTEM, NAMESPACE], limit:25){ field values { value count } } }`,
	}
	ComponentsFacets = Operation{
		Name:  "components-facets",
		Title: "components: page of 50 with totalCount plus five facets (type, lifecycle, owner, tag, system; 25 values each)",
		Query: `query{ entities(filter:{kinds:["Component"]}, first:50){ totalCount nodes { ref name title } } ` +
			`facets(filter:{kinds:["Component"]}, fields:[TYPE, LIFECYCLE, OWNER, TAG, SYSTEM], limit:25){ field values { value count } } }`,
	}
)

// CatalogOperations lists the catalog page's operations in report order.
func CatalogOperations() []Operation {
	return []Operation{CatalogFacets, ComponentsFacets}
}

// Bodies returns one GraphQL-over-HTTP JSON request body per input value, with the value in the
// body's variables, in the order of the inputs; for an operation without a variable, one body.
func (op Operation) Bodies(q *Queries) ([][]byte, error) {
	if op.Var == "" {
		b, err := json.Marshal(struct {
			Query string `json:"query"`
		}{op.Query})
		if err != nil {
			return nil, err
		}
		return [][]byte{b}, nil
	}
	values := op.Values(q)
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: no inputs", op.Name)
	}
	out := make([][]byte, 0, len(values))
	for _, v := range values {
		b, err := json.Marshal(struct {
			Query     string            `json:"query"`
			Variables map[string]string `json:"variables"`
		}{op.Query, map[string]string{op.Var: v}})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Fataler is the part of testing.TB that Generate needs.
type Fataler interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

var (
	genMu   sync.Mutex
	genDirs = map[float64]string{}
)

// Generate returns the directory of a catalog generated by bench/gencatalog at the given scale
// (default seed), for Go benchmarks. The catalog is generated once per machine and version of the
// generator, into the system temp directory, and reused: generating needs `go run`, which would
// otherwise dominate a benchmark run. Concurrent test binaries never see a half-written catalog.
func Generate(tb Fataler, scale float64) string {
	tb.Helper()
	genMu.Lock()
	defer genMu.Unlock()
	if dir, ok := genDirs[scale]; ok {
		return dir
	}
	dir, err := generate(tb, scale)
	if err != nil {
		tb.Fatalf("benchcat: generate catalog at scale %g: %v", scale, err)
	}
	genDirs[scale] = dir
	return dir
}

func generate(tb Fataler, scale float64) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	sum, err := generatorHash(root)
	if err != nil {
		return "", err
	}
	base := filepath.Join(os.TempDir(), "portside-bench")
	final := filepath.Join(base, "catalog-scale"+strconv.FormatFloat(scale, 'g', -1, 64)+"-"+sum)
	if _, err := os.Stat(filepath.Join(final, "queries.json")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(base, "gen-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	cmd := exec.Command("go", "run", "./bench/gencatalog", "-out", tmp, "-scale", strconv.FormatFloat(scale, 'g', -1, 64))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go run ./bench/gencatalog: %v\n%s", err, out)
	}
	tb.Logf("benchcat: generated catalog at scale %g in %s", scale, final)
	if err := os.Rename(tmp, final); err != nil {
		// Another process got there first: use its catalog.
		if _, statErr := os.Stat(filepath.Join(final, "queries.json")); statErr == nil {
			return final, nil
		}
		return "", err
	}
	return final, nil
}

// generatorHash identifies the generator's source, so a changed generator regenerates.
func generatorHash(root string) (string, error) {
	dir := filepath.Join(root, "bench", "gencatalog")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ModuleRoot finds the directory of Portside's go.mod, from the working directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/portside-dev/portside\n") {
			return dir, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the Portside module (no go.mod naming github.com/portside-dev/portside)")
		}
		dir = parent
	}
}
