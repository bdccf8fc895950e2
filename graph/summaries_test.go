package graph_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// pageHandler is the GraphQL API over st, with its own catalog service (and so its own caches)
// of cacheSize entities, answering raw bytes.
func pageHandler(t *testing.T, st *store.Store, cacheSize int) func(query string, vars map[string]any) []byte {
	t.Helper()
	svc := catalog.NewService(st, catalog.Options{
		Readers:   map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}}},
		CacheSize: cacheSize,
		Logger:    slog.New(slog.DiscardHandler),
	})
	return rawHandler(t, svc, 0)
}

// rawHandler is the GraphQL API over svc, signed in, answering raw bytes; maxResponseBytes
// bounds its answers (0: the default bound).
func rawHandler(t *testing.T, svc *catalog.Service, maxResponseBytes int) func(query string, vars map[string]any) []byte {
	t.Helper()
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{
		MaxDepth: 12, MaxComplexity: 100000, Logger: slog.New(slog.DiscardHandler), MaxResponseBytes: maxResponseBytes,
	}))
	return func(query string, vars map[string]any) []byte {
		t.Helper()
		body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.Bytes()
	}
}

// statementLog records the SQL text of every statement run on a gorm handle.
type statementLog struct {
	mu   sync.Mutex
	list []string
}

func logStatements(db *gorm.DB) *statementLog {
	l := &statementLog{}
	rec := func(d *gorm.DB) {
		if d.Statement == nil || d.DryRun { // a dry run builds a subquery; nothing is sent
			return
		}
		l.mu.Lock()
		l.list = append(l.list, d.Statement.SQL.String())
		l.mu.Unlock()
	}
	name := fmt.Sprintf("summaries_test:log:%p", l)
	cb := db.Callback()
	_ = cb.Query().After("gorm:query").Register(name, rec)
	_ = cb.Row().After("gorm:row").Register(name, rec)
	_ = cb.Raw().After("gorm:raw").Register(name, rec)
	return l
}

// take returns the statements logged since the last take.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.list
	l.list = nil
	return out
}

// wholeReads are the statements that read entities whole: their stored documents, with their
// relations in both directions (catalog's loadEntities, one statement per batch).
func wholeReads(statements []string) []string {
	var out []string
	for _, s := range statements {
		if strings.Contains(s, "body") {
			out = append(out, s)
		}
	}
	return out
}

// summarySelections are selections on pages of entities. summary says whether the pages they
// select may be read as summaries: every field of every entity comes from the entities row.
// whole counts the statements that read entities whole (wholeReads) beside the pages': an owner
// looked up by Query.entity is read whole (its row and its relations: 1).
var summarySelections = []struct {
	name, query string
	vars        map[string]any
	summary     bool
	whole       int
}{
	{"the components page", `{ entities(filter: {kinds: ["Component"]}, first: 50) { totalCount nodes { ref name title } }
		facets(filter: {kinds: ["Component"]}, fields: [TYPE, LIFECYCLE, OWNER, TAG, SYSTEM], limit: 25) { field values { value count } } }`, nil, true, 0},
	{"every summary field of every type", `{ entities(first: 200) { edges { cursor node { __typename id ref kind namespace name title
		description tags source createdAt updatedAt
		... on Component { type lifecycle ownerRef systemRef } ... on API { type lifecycle ownerRef systemRef }
		... on System { st: type ownerRef } ... on Domain { st: type ownerRef } ... on Resource { type ownerRef systemRef }
		... on Group { type } ... on LocationEntity { st: type } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`, nil, true, 0},
	{"typenames only", `{ entities(first: 30) { __typename nodes { __typename } edges { __typename node { __typename } } } }`, nil, true, 0},
	{"aliases", `{ a: entities(filter: {kinds: ["API"]}) { n: nodes { r: ref k: kind r2: ref } } b: entities(orderBy: {field: KIND, direction: DESC}, first: 7) { nodes { x: name } } }`, nil, true, 0},
	{"named fragments", `query { entities(filter: {kinds: ["Component", "System"]}) { nodes { ...E } edges { node { ...C } } } }
		fragment E on Entity { ref ...N } fragment N on Node { id } fragment C on Component { lifecycle ownerRef tags }`, nil, true, 0},
	{"inline fragments on the interfaces", `{ entities(first: 40) { nodes { ... on Entity { name } ... on Node { id } ... { createdAt } } } }`, nil, true, 0},
	{"ordered by update time, after a cursor", `query($a: String) { entities(orderBy: {field: UPDATED_AT, direction: DESC}, first: 5, after: $a) { nodes { ref updatedAt } pageInfo { endCursor } } }`,
		map[string]any{"a": base64.RawURLEncoding.EncodeToString([]byte(`["-updatedAt","2100-01-01T00:00:00Z","z"]`))}, true, 0},
	{"an owner's page", `{ entity(ref: "group:team-payments") { ... on Group { ownedEntities(first: 20) { totalCount nodes { ref name title ... on Component { type } } } } } }`, nil, true, 1},
	{"an owner's page below its groups", `{ entity(ref: "group:engineering") { ... on Group { ownedEntities(includeDescendantGroups: true) { nodes { ref name } } } } }`, nil, true, 1},
	{"a user's page", `{ entity(ref: "user:alice") { ... on User { ownedEntities { nodes { ref } } } } }`, nil, true, 1},
	{"a location's entities", `{ locations { nodes { entities(first: 5) { totalCount nodes { ref name } pageInfo { hasNextPage } } } } }`, nil, true, 0},
	{"search", `{ search(text: "pay") { entities(first: 20) { totalCount nodes { ref name title kind } } } }`, nil, true, 0},
	{"a skipped relation", `query($no: Boolean!) { entities(first: 20) { nodes { ref annotations @include(if: $no) { key } } } }`, map[string]any{"no": false}, true, 0},
	{"an included relation", `query($yes: Boolean!) { entities(first: 20) { nodes { ref relations @include(if: $yes) { type targetRef } } } }`, map[string]any{"yes": true}, false, 0},
	{"the spec", `{ entities(filter: {kinds: ["Component"]}) { nodes { ref name spec } } }`, nil, false, 0},
	{"apiVersion", `{ entities(first: 10) { nodes { apiVersion name } } }`, nil, false, 0},
	{"labels, annotations and links", `{ entities(first: 30) { nodes { ref labels { key value } annotations { key value } annotation(key: "backstage.io/techdocs-ref") links { url title } } } }`, nil, false, 0},
	{"relations", `{ entities(first: 30) { nodes { ref relations { type targetRef target { ref name } } } } }`, nil, false, 0},
	{"an owner", `{ entities(filter: {kinds: ["Component"]}) { nodes { ref ... on Component { owner { ref name } system { name } } } } }`, nil, false, 0},
	{"a relation in one type's fragment", `query { entities(first: 60) { nodes { ref ...G } } } fragment G on Group { type members { name } }`, nil, false, 0},
	{"a relation on the edges only", `{ entities(first: 25) { nodes { ref name } edges { node { ... on Component { dependsOn { ref } } } } } }`, nil, false, 0},
	{"a location", `{ entities(first: 5) { nodes { ref location { id target } } } }`, nil, false, 0},
	{"a user's profile", `{ entities(filter: {kinds: ["User"]}) { nodes { ref ... on User { profile { displayName email } } } } }`, nil, false, 0},
	{"an API's definition", `{ entities(filter: {kinds: ["API"]}) { nodes { ref ... on API { definition } } } }`, nil, false, 0},
	{"a location entity's targets", `{ entities(filter: {kinds: ["Location"]}) { nodes { ref ... on LocationEntity { targets presence } } } }`, nil, false, 0},
	{"summary and whole pages in one request", `{ s: entities(first: 15) { nodes { ref name } } w: entities(first: 15) { nodes { ref spec } } }`, nil, false, 0},
	{"an owner's page under relations", `{ entities(filter: {kinds: ["Group"]}) { nodes { ref ... on Group { children { ref } ownedEntities(first: 3) { nodes { ref title } } } } } }`, nil, false, 0},
	{"an error", `{ entities(first: 5000) { nodes { ref } } }`, nil, false, 0},
}

// TestEntityPagesOfSummariesAnswerTheBytesOfWholeEntities runs selections on pages of entities
// with every page read whole and then as the selection allows, on both dialects, with the read
// cache off and on (each run on a service of its own, so neither answers from the other's
// caches), and compares the answers' bytes. With the cache off it also checks which pages were
// read whole: a summary selection reads no relations and no stored documents, any other does.
func TestEntityPagesOfSummariesAnswerTheBytesOfWholeEntities(t *testing.T) {
	t.Cleanup(func() { graph.ReadPagesWhole(false) })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if err := registerDemo(t, st); err != nil {
			t.Fatal(err)
		}
		log := logStatements(st.Gorm())
		for _, cacheSize := range []int{0, 1000} {
			for _, c := range summarySelections {
				got, want, reads := wholeThenAsAllowed(t, st, log, cacheSize, c.query, c.vars)
				if !bytes.Equal(got, want) {
					t.Errorf("%s (cache %d):\n got %s\nwant %s", c.name, cacheSize, got, want)
				}
				if c.name != "an error" && bytes.Contains(got, []byte(`"errors"`)) {
					t.Errorf("%s (cache %d): %s", c.name, cacheSize, got)
				}
				if cacheSize > 0 {
					continue
				}
				switch {
				case c.summary && len(reads) != c.whole:
					t.Errorf("%s: read whole entities (%d statements, want %d):\n%s", c.name, len(reads), c.whole, strings.Join(reads, "\n"))
				case !c.summary && c.name != "an error" && len(reads) == 0:
					t.Errorf("%s: no entity was read whole", c.name)
				}
			}
		}
	})
}

// wholeThenAsAllowed answers query with every entity read whole (want), then as its selection
// allows (got), each on a service of its own, and returns the statements of the second answer that
// read entities whole (wholeReads).
func wholeThenAsAllowed(t *testing.T, st *store.Store, log *statementLog, cacheSize int, query string, vars map[string]any) (got, want []byte, reads []string) {
	t.Helper()
	graph.ReadPagesWhole(true)
	want = pageHandler(t, st, cacheSize)(query, vars)
	graph.ReadPagesWhole(false)
	log.take()
	got = pageHandler(t, st, cacheSize)(query, vars)
	return got, want, wholeReads(log.take())
}

// registerDemo registers the embedded demo catalog in st.
func registerDemo(t *testing.T, st *store.Store) error {
	t.Helper()
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	_, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"})
	return err
}

// demoRequests registers the demo catalog in st and returns a handler of its requests with the
// read cache off, and a counter of the statements those requests run: only theirs, as the
// registration's statistics work may still run beside them.
func demoRequests(t *testing.T, st *store.Store) (serve func(query string, vars map[string]any) []byte, counter *storetest.Counter) {
	t.Helper()
	if err := registerDemo(t, st); err != nil {
		t.Fatal(err)
	}
	counter = storetest.CountStatementsOf(st.Gorm(), func(ctx context.Context) bool {
		p := principal.From(ctx)
		return p != nil && p.Username == "admin"
	})
	return pageHandler(t, st, 0), counter
}

// TestAPageOfSummariesCostsOneStatement counts the statements of the components page (its
// entities' part: the page and its count) with the read cache off: one for the page, whatever
// its size and whether it shows its total, where the whole read takes the page, then the
// entities with their relations.
func TestAPageOfSummariesCostsOneStatement(t *testing.T) {
	t.Cleanup(func() { graph.ReadPagesWhole(false) })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		graph.ReadPagesWhole(false)
		serve, counter := demoRequests(t, st)
		count := func(first int) int64 {
			counter.Reset()
			out := serve(`query($n: Int) { entities(first: $n) { nodes { ref name title } } }`, map[string]any{"n": first})
			if bytes.Contains(out, []byte(`"errors"`)) || !bytes.Contains(out, []byte(`"ref"`)) {
				t.Fatalf("page of %d: %s", first, out)
			}
			return counter.Count()
		}
		if small, large := count(3), count(100); small != 1 || large != 1 {
			t.Errorf("a page of summaries took %d statements for 3 entities, %d for 100; want 1", small, large)
		}
		// A page that shows its total counts in its own statement: an owner's page of components.
		const ownerPage = `{ entities(filter: {owners: ["group:team-payments"], kinds: ["Component"]}, first: 2) { totalCount nodes { ref name title } } }`
		counter.Reset()
		withTotal := serve(ownerPage, nil)
		if n := counter.Count(); n != 1 {
			t.Errorf("a page of summaries with its totalCount took %d statements; want 1", n)
		}
		totalOnly := serve(`{ entities(filter: {owners: ["group:team-payments"], kinds: ["Component"]}) { totalCount } }`, nil)
		var page, total struct {
			Data struct {
				Entities struct {
					TotalCount int
					Nodes      []struct{ Ref string }
				}
			}
		}
		if err := json.Unmarshal(withTotal, &page); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(totalOnly, &total); err != nil {
			t.Fatal(err)
		}
		if got, want := page.Data.Entities.TotalCount, total.Data.Entities.TotalCount; got != want || want <= len(page.Data.Entities.Nodes) {
			t.Errorf("the page's totalCount is %d, the count alone %d (%d nodes): %s", got, want, len(page.Data.Entities.Nodes), withTotal)
		}
		graph.ReadPagesWhole(true)
		if whole := count(100); whole != 2 {
			t.Errorf("the whole page took %d statements; want 2 (page; entities with their relations)", whole)
		}
	})
}

// relatedSelections are selections of entities related to one: whole counts the statements
// that read entities whole (wholeReads) with the read cache off. The entity asked for is read
// as its summary with its relations where its selection allows (entitySummaryShown: its
// summary's fields, its relations, its owner, system, parent or domain), else whole (its
// entities row with its document and relations: 1); a related entity is read whole (1 more per
// field) only where its selection asks for more than a summary holds.
var relatedSelections = []struct {
	name, query string
	whole       int
}{
	{"an owner and a system by name", `{ entity(ref: "component:payments-api") { ref ... on Component { owner { ref name } system { ref name title description } } } }`, 0},
	{"dependencies and APIs by name", `{ entity(ref: "component:payments-api") { ... on Component { dependsOn { ref kind } dependents { ref } providesApis { name title } consumesApis(first: 1) { ref } } } }`, 1},
	{"relation targets' summaries", `{ entity(ref: "component:payments-api") { relations { type target { __typename ref kind name ... on Component { lifecycle ownerRef } } } } }`, 0},
	{"a group's parent, children and members", `{ entity(ref: "group:team-payments") { ... on Group { parent { ref } children { ref name } members { name } } } }`, 1},
	{"a page's owners", `{ entities(filter: {kinds: ["Component"]}, first: 20) { nodes { ref ... on Component { owner { ref name } } } } }`, 1},
	{"a component part of a system and of a component", `{ entity(ref: "component:refund-worker") { ... on Component { owner { name } system { ref name } parent { ref title } } } }`, 0},
	{"a system's owner and domain", `{ entity(ref: "system:payments") { ... on System { owner { ref } domain { name title } } } }`, 0},
	{"a domain's owner and parent", `{ entity(ref: "domain:commerce") { ... on Domain { owner { ref name } parent { ref } } } }`, 0},
	{"an owner's members", `{ entity(ref: "component:payments-api") { ... on Component { owner { ref ... on Group { members { ref } } } } } }`, 1},
	{"an owner's spec", `{ entity(ref: "component:payments-api") { ... on Component { owner { ref spec } system { ref } } } }`, 1},
	{"a system's owner and its owner's location", `{ entity(ref: "system:payments") { ... on System { owner { name location { target } } } } }`, 1},
	{"the same field whole and as a summary, aliased", `{ entity(ref: "component:payments-api") { ... on Component { a: owner { ref } b: owner { ref annotations { key } } } } }`, 1},
	// The entity alone, as its summary with its relations or whole.
	{"every summary field of an entity", `{ entity(ref: "component:payments-api") { __typename id ref kind namespace name title description tags source
		createdAt updatedAt ... on Component { type lifecycle ownerRef systemRef } } }`, 0},
	{"a user by name", `{ entity(ref: "user:alice") { ... on Entity { name } ... on Node { id } } }`, 0},
	{"a group's type and relations", `{ u: entity(ref: "group:team-payments") { name ... on Group { type } relations(type: "hasMember", first: 1) { targetRef } } }`, 0},
	{"relations filtered, with their targets' owners", `{ entity(ref: "system:payments") { relations(type: "hasPart") { type target { ref ... on Component { owner { name } } } } } }`, 1},
	{"an entity skipping its spec", `{ entity(ref: "component:payments-api") { ref spec @skip(if: true) } }`, 0},
	{"an entity's spec", `{ entity(ref: "component:payments-api") { ref spec } }`, 1},
	{"an entity's apiVersion", `{ entity(ref: "api:payments-rest-api") { apiVersion name } }`, 1},
	{"an entity's annotations", `{ entity(ref: "component:payments-api") { name annotation(key: "backstage.io/techdocs-ref") } }`, 1},
	{"an entity's links and labels", `{ entity(ref: "component:payments-api") { name links { url } labels { key } } }`, 1},
	{"a user's profile", `{ entity(ref: "user:alice") { name ... on User { profile { email } } } }`, 1},
	{"a location entity's targets", `{ entity(ref: "location:acme-demo") { name ... on LocationEntity { type targets } } }`, 1},
	{"an entity's location", `{ entity(ref: "component:payments-api") { name location { target } } }`, 1},
	{"an owner's entities", `{ entity(ref: "group:team-payments") { name ... on Group { ownedEntities(first: 2) { nodes { ref } } } } }`, 1},
	// The entity's type is not known before it is read: a field of any type decides.
	{"a field of a type the entity is not", `{ entity(ref: "component:payments-api") { name ... on API { definition } } }`, 1},
}

// TestRelatedEntitiesAreReadAsSummariesWhereTheirSelectionAllows asks for entities related to
// one (an owner, a system, dependencies, a relation's target ...) with every related entity
// read whole and then as its selection allows, on both dialects, with the read cache off and on,
// and compares the answers' bytes; with the cache off it counts the statements that read
// entities whole.
func TestRelatedEntitiesAreReadAsSummariesWhereTheirSelectionAllows(t *testing.T) {
	t.Cleanup(func() { graph.ReadPagesWhole(false) })
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if err := registerDemo(t, st); err != nil {
			t.Fatal(err)
		}
		log := logStatements(st.Gorm())
		for _, cacheSize := range []int{0, 1000} {
			for _, c := range relatedSelections {
				got, want, reads := wholeThenAsAllowed(t, st, log, cacheSize, c.query, nil)
				if !bytes.Equal(got, want) {
					t.Errorf("%s (cache %d):\n got %s\nwant %s", c.name, cacheSize, got, want)
				}
				if bytes.Contains(got, []byte(`"errors"`)) || bytes.Count(got, []byte(`"ref"`))+bytes.Count(got, []byte(`"name"`)) == 0 {
					t.Errorf("%s (cache %d): %s", c.name, cacheSize, got)
				}
				if cacheSize == 0 && len(reads) != c.whole {
					t.Errorf("%s: %d statements read entities whole, want %d:\n%s", c.name, len(reads), c.whole, strings.Join(reads, "\n"))
				}
			}
		}
	})
}

// TestAnEntityWithItsOwnerAndSystemCostsOneStatement counts the statements of an entity's view
// (its relations, its owner's and its system's names) with the read cache off: the entity with
// its relations and its owner's and its system's summaries, in one statement
// (catalog.Service.EntityByInputWithTargets), where they were two. A view whose owner is shown
// whole reads the entity with its system's summary, then the owner whole.
func TestAnEntityWithItsOwnerAndSystemCostsOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		serve, counter := demoRequests(t, st)
		out := serve(`{ entity(ref: "component:payments-api") { ref name title ... on Component { owner { ref name } system { ref name } } relations { type targetRef } } }`, nil)
		if !bytes.Contains(out, []byte(`"owner":{"ref":"group:default/team-payments"`)) || !bytes.Contains(out, []byte(`"system":{"ref":"system:default/payments"`)) {
			t.Fatalf("no owner or system: %s", out)
		}
		if n := counter.Count(); n != 1 {
			t.Errorf("the entity with its owner and system took %d statements; want 1", n)
		}
		// Every type's fields that show such a target (readTogetherFields), each alone (but a
		// domain's parent: the demo has none).
		for _, view := range []string{
			`{ entity(ref: "component:refund-worker") { ... on Component { parent { name } } } }`,
			`{ entity(ref: "component:refund-worker") { ... on Component { system { name } } } }`,
			`{ entity(ref: "api:payments-rest-api") { ... on API { owner { name } } } }`,
			`{ entity(ref: "api:payments-rest-api") { ... on API { system { name } } } }`,
			`{ entity(ref: "resource:payments-db") { ... on Resource { owner { name } } } }`,
			`{ entity(ref: "resource:payments-db") { ... on Resource { system { name } } } }`,
			`{ entity(ref: "system:payments") { ... on System { owner { name } } } }`,
			`{ entity(ref: "system:payments") { ... on System { domain { name } } } }`,
			`{ entity(ref: "domain:commerce") { ... on Domain { owner { name } } } }`,
		} {
			counter.Reset()
			out := serve(view, nil)
			if bytes.Contains(out, []byte(`"errors"`)) || !bytes.Contains(out, []byte(`{"name":"`)) {
				t.Fatalf("%s: %s", view, out)
			}
			if n := counter.Count(); n != 1 {
				t.Errorf("%s took %d statements; want 1", view, n)
			}
		}
		counter.Reset()
		out = serve(`{ entity(ref: "component:payments-api") { ... on Component { owner { ref spec } system { name } } } }`, nil)
		if !bytes.Contains(out, []byte(`"owner":{"ref":"group:default/team-payments","spec":{`)) || !bytes.Contains(out, []byte(`"system":{"name":"payments"}`)) {
			t.Fatalf("no owner or system: %s", out)
		}
		if n := counter.Count(); n != 2 {
			t.Errorf("the entity with its owner whole and its system took %d statements; want 2", n)
		}
		// An owner another entity declares (a group's ownerOf): not among what the entity's
		// statement reads, so its targets are read apart, and shown.
		err := st.Gorm().Exec("INSERT INTO relations (entity_id, type, target_ref) " +
			"SELECT id, 'ownerOf', 'component:default/payments-api' FROM entities WHERE ref = 'group:default/team-orders'").Error
		if err != nil {
			t.Fatal(err)
		}
		const view = `{ entity(ref: "component:payments-api") { ... on Component { owner { ref name } system { name } } } }`
		t.Cleanup(func() { graph.ReadPagesWhole(false) })
		graph.ReadPagesWhole(true)
		want := serve(view, nil)
		graph.ReadPagesWhole(false)
		counter.Reset()
		out = serve(view, nil)
		if !bytes.Equal(out, want) || !bytes.Contains(out, []byte(`"system":{"name":"payments"}`)) {
			t.Errorf("with an owner another entity declares:\n got %s\nwant %s", out, want)
		}
		if n := counter.Count(); n != 2 {
			t.Errorf("the entity with an owner another entity declares took %d statements; want 2", n)
		}
	})
}
