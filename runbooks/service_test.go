package runbooks_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// fakeCatalog knows entities by ref, and who owns them by username.
type fakeCatalog struct {
	entities map[string]*backstage.Entity
	owners   map[string][]string
}

func (c *fakeCatalog) EntitiesByRef(_ context.Context, refs []backstage.Ref) (map[backstage.Ref]*backstage.Entity, error) {
	out := map[backstage.Ref]*backstage.Entity{}
	for _, r := range refs {
		if e, ok := c.entities[r.String()]; ok {
			out[r] = e
		}
	}
	return out, nil
}

func (c *fakeCatalog) Owns(_ context.Context, p *principal.Principal, ref string) (bool, error) {
	for _, o := range c.owners[ref] {
		if p != nil && o == p.Username {
			return true, nil
		}
	}
	return false, nil
}

const (
	checkout = "component:default/checkout"
	payments = "component:default/payments"
	shop     = "system:default/shop"
)

var (
	bob   = principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindSession, Client: principal.ClientWeb})
	carol = principal.With(context.Background(), &principal.Principal{Username: "carol", Kind: principal.KindSession, Client: principal.ClientWeb})
	admin = principal.With(context.Background(), &principal.Principal{Username: "alice", Admin: true, Kind: principal.KindSession, Client: principal.ClientWeb})
)

func entity(ref string) *backstage.Entity {
	r := backstage.MustParseRef(ref)
	return &backstage.Entity{Ref: r, Metadata: backstage.Metadata{Name: r.Name, Namespace: r.Namespace, Annotations: map[string]string{}}}
}

func newService(t *testing.T, st *store.Store, opts runbooks.Options) *runbooks.Service {
	t.Helper()
	opts.Catalog = &fakeCatalog{
		entities: map[string]*backstage.Entity{checkout: entity(checkout), payments: entity(payments), shop: entity(shop)},
		owners:   map[string][]string{checkout: {"bob"}, shop: {"bob"}, payments: {"carol"}},
	}
	s := runbooks.NewService(st, opts)
	t.Cleanup(s.Stop)
	return s
}

func md(title, body string, links ...string) runbooks.CreateInput {
	return runbooks.CreateInput{Title: title, Kind: runbooks.Markdown, Markdown: body, Links: links, Message: "first"}
}

func ptr[T any](v T) *T { return &v }

// paddedTable is 12 KB of Markdown that goldmark lays out as four million table cells: a header of
// 2,000 empty columns, padded onto 2,000 rows.
var paddedTable = strings.Repeat("|", 2001) + "\n" + strings.Repeat("|-", 2000) + "|\n" + strings.Repeat("|\n", 2000)

func TestEveryEditIsANewVersionWithAuthorTimeAndMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newService(t, st, runbooks.Options{})
		rb, err := s.Create(bob, md("Checkout is down", "# Checkout\n\n1. look\n2. restart\n", "checkout"))
		if err != nil {
			t.Fatal(err)
		}
		if rb.Version != 1 || rb.CreatedBy != "bob" || rb.Kind != runbooks.Markdown || len(rb.Links) != 1 || rb.Links[0] != checkout {
			t.Fatalf("created %+v", rb)
		}
		rb2, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("# Checkout\n\n1. look\n2. restart\n3. tell #ops\n"), Message: "tell ops"})
		if err != nil {
			t.Fatal(err)
		}
		rb3, err := s.Update(admin, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 2, Title: ptr("Checkout outage"), Message: "rename"})
		if err != nil {
			t.Fatal(err)
		}
		if rb2.Version != 2 || rb3.Version != 3 || rb3.Title != "Checkout outage" || rb3.UpdatedBy != "alice" || !strings.Contains(rb3.Markdown, "tell #ops") {
			t.Fatalf("after two edits: %+v, %+v", rb2, rb3)
		}
		vs, err := s.Versions(bob, rb.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 3 || vs[0].Number != 3 || vs[0].Author != "alice" || vs[0].Message != "rename" || vs[1].Message != "tell ops" ||
			vs[2].Author != "bob" || vs[2].Markdown != "# Checkout\n\n1. look\n2. restart\n" || vs[2].CreatedAt.IsZero() {
			t.Fatalf("versions = %+v", vs)
		}
		if vs, err := s.Versions(bob, rb.ID, 1); err != nil || len(vs) != 1 || vs[0].Number != 3 {
			t.Errorf("first 1 version = %+v, %v", vs, err)
		}
		d, err := s.Diff(carol, rb.ID, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := "--- runbook-" + itoa(rb.ID) + "@v1\n+++ runbook-" + itoa(rb.ID) + "@v3\n@@ -1,5 +1,6 @@\n-# title: Checkout is down\n+# title: Checkout outage\n" +
			" # Checkout\n \n 1. look\n 2. restart\n+3. tell #ops\n"
		if d != want {
			t.Errorf("diff v1..v3 =\n%s\nwant\n%s", d, want)
		}
		if d, err := s.Diff(carol, rb.ID, 3, 3); err != nil || d != "" {
			t.Errorf("diff of a version with itself = %q, %v", d, err)
		}
		if _, err := s.Diff(carol, rb.ID, 1, 9); errs.FieldOf(err) != "to" {
			t.Errorf("diff to a version that does not exist: %v, want INVALID naming to", err)
		}
		// The database keeps versions immutable, whoever asks.
		if err := st.Gorm().Exec("UPDATE runbook_versions SET body = 'rewritten'").Error; err == nil {
			t.Error("a runbook version could be changed in place")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAStaleEditIsAConflictAndConcurrentEditorsCannotBothWin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newService(t, st, runbooks.Options{})
		rb, err := s.Create(bob, md("Restart", "v1\n", "checkout"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("v2\n")}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Update(admin, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("also v2\n")})
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.PublicMessage(err), "version 2") {
			t.Fatalf("an edit of version 1 after version 2: %v, want CONFLICT naming version 2", err)
		}
		const n = 8
		var wg sync.WaitGroup
		results := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, results[i] = s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 2, Markdown: ptr("v3 by editor " + strconv.Itoa(i) + "\n")})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range results {
			switch {
			case err == nil:
				won++
			case !errs.Is(err, errs.Conflict):
				t.Errorf("editor %d: %v, want success or CONFLICT", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent edits of version 2 won, want exactly 1", won, n)
		}
		vs, err := s.Versions(bob, rb.ID, 100)
		if err != nil || len(vs) != 3 {
			t.Errorf("versions after the race: %d, %v; want 3", len(vs), err)
		}
	})
}

func TestOwnersOfALinkedEntityAndAdminsEditSignedInUsersRead(t *testing.T) {
	st := storetest.SQLite(t)
	log := audit.New(st, nil)
	s := newService(t, st, runbooks.Options{Audit: log})
	anonymous := context.Background()
	if _, err := s.Create(carol, md("Checkout", "x", "checkout")); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol creating a runbook for bob's component: %v, want FORBIDDEN", err)
	}
	if _, err := s.Create(anonymous, md("Checkout", "x", "checkout")); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("anonymous: %v, want UNAUTHENTICATED", err)
	}
	if _, err := s.Create(bob, md("Nothing", "x")); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob creating a runbook linked to nothing: %v, want FORBIDDEN (admins only)", err)
	}
	// Created linked is linked: bob's component beside carol's needs carol's consent, as Link does.
	if _, err := s.Create(bob, md("Both", "x", "checkout", "payments")); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob creating a runbook for his component and carol's: %v, want FORBIDDEN", err)
	}
	rb, err := s.Create(bob, md("Checkout", "x", "checkout", "system:shop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(carol, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("y")}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol editing: %v, want FORBIDDEN", err)
	}
	if _, err := s.Runbook(carol, rb.ID); err != nil {
		t.Errorf("carol reading: %v", err)
	}
	if _, err := s.Runbook(anonymous, rb.ID); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("anonymous reading: %v, want UNAUTHENTICATED", err)
	}
	// Linking needs the runbook and the target: bob may not put his runbook on carol's page,
	// carol may not link bob's runbook; an admin may.
	if _, err := s.Link(bob, rb.ID, "payments"); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob linking to carol's component: %v, want FORBIDDEN", err)
	}
	if _, err := s.Link(carol, rb.ID, "payments"); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol linking bob's runbook: %v, want FORBIDDEN", err)
	}
	got, err := s.Link(admin, rb.ID, "payments")
	if err != nil || len(got.Links) != 3 {
		t.Fatalf("admin linking: %+v, %v", got, err)
	}
	// Now carol owns a linked entity: she may edit, and take it off her page.
	if _, err := s.Update(carol, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("y")}); err != nil {
		t.Errorf("carol editing a runbook linked to her component: %v", err)
	}
	if got, err := s.Unlink(carol, rb.ID, "payments"); err != nil || len(got.Links) != 2 {
		t.Errorf("carol unlinking from her component: %+v, %v", got, err)
	}
	if _, err := s.Unlink(carol, rb.ID, "checkout"); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol unlinking bob's component: %v, want FORBIDDEN", err)
	}
	if _, err := s.Unlink(bob, rb.ID, "payments"); !errs.Is(err, errs.NotFound) {
		t.Errorf("unlinking what is not linked: %v, want NOT_FOUND", err)
	}
	// Its last link is the admins' to take: linked to nothing, only they could edit it.
	two, err := s.Runbook(bob, rb.ID)
	if err != nil || len(two.Links) != 2 {
		t.Fatalf("links left: %+v, %v", two.Links, err)
	}
	if _, err := s.Unlink(bob, rb.ID, two.Links[0]); err != nil {
		t.Fatalf("bob unlinking one of two: %v", err)
	}
	if _, err := s.Unlink(bob, rb.ID, two.Links[1]); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "entity" ||
		!strings.Contains(errs.PublicMessage(err), "last link") {
		t.Errorf("bob unlinking the last link: %v, want INVALID naming entity", err)
	}
	if now, _ := s.Runbook(bob, rb.ID); len(now.Links) != 1 {
		t.Errorf("after the refused unlink: links %v", now.Links)
	}
	if err := s.Delete(carol, rb.ID); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol deleting: %v, want FORBIDDEN", err)
	}
	if err := s.Delete(bob, rb.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Runbook(bob, rb.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("a deleted runbook: %v, want NOT_FOUND", err)
	}
	var left int64
	st.Gorm().Raw("SELECT count(*) FROM runbook_versions WHERE runbook_id = ?", rb.ID).Scan(&left)
	if left != 0 {
		t.Errorf("%d versions outlived their runbook", left)
	}
	recs, err := log.Query(admin, audit.Filter{}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, r := range recs.Records {
		if strings.HasPrefix(r.Action, "runbooks.") {
			outcomes[r.Action+" "+string(r.Outcome)]++
		}
	}
	// Two unlinks failed: of what was not linked, and of the last link.
	want := map[string]int{"runbooks.runbook.create denied": 4, "runbooks.runbook.create ok": 1, "runbooks.runbook.update denied": 1,
		"runbooks.runbook.update ok": 1, "runbooks.runbook.link denied": 2, "runbooks.runbook.link ok": 1, "runbooks.runbook.unlink ok": 2,
		"runbooks.runbook.unlink denied": 1, "runbooks.runbook.unlink failed": 2, "runbooks.runbook.delete denied": 1, "runbooks.runbook.delete ok": 1}
	for k, n := range want {
		if outcomes[k] != n {
			t.Errorf("audit: %d × %s, want %d (all: %v)", outcomes[k], k, n, outcomes)
		}
	}
}

// Every input is bounded, and the error names the field.
func TestInputsAreBoundedAndErrorsNameTheField(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st, runbooks.Options{})
	many := make([]string, runbooks.MaxLinks+1)
	for i := range many {
		many[i] = "checkout"
	}
	cases := []struct {
		name  string
		in    runbooks.CreateInput
		field string
	}{
		{"empty title", md("  ", "x", "checkout"), "title"},
		{"title too long", md(strings.Repeat("t", runbooks.MaxTitle+1), "x", "checkout"), "title"},
		{"title on two lines", md("a\nb", "x", "checkout"), "title"},
		{"body too large", md("t", strings.Repeat("x", runbooks.MaxBody+1), "checkout"), "markdown"},
		{"body not UTF-8", md("t", "\xff\xfe", "checkout"), "markdown"},
		{"body with a NUL", md("t", "step\x00one", "checkout"), "markdown"},
		{"body rendering to millions of cells", md("t", paddedTable, "checkout"), "markdown"},
		{"title with a NUL", md("t\x00", "x", "checkout"), "title"},
		{"unknown kind", runbooks.CreateInput{Title: "t", Kind: "WIKI", Links: []string{"checkout"}}, "kind"},
		{"link without URL", runbooks.CreateInput{Title: "t", Kind: runbooks.Link, Links: []string{"checkout"}}, "url"},
		{"javascript URL", runbooks.CreateInput{Title: "t", Kind: runbooks.Link, URL: "javascript:alert(1)", Links: []string{"checkout"}}, "url"},
		{"relative URL", runbooks.CreateInput{Title: "t", Kind: runbooks.Link, URL: "/wiki/x", Links: []string{"checkout"}}, "url"},
		{"URL too long", runbooks.CreateInput{Title: "t", Kind: runbooks.Link, URL: "https://x.example/" + strings.Repeat("a", runbooks.MaxURL), Links: []string{"checkout"}}, "url"},
		{"markdown on a link", runbooks.CreateInput{Title: "t", Kind: runbooks.Link, URL: "https://x.example", Markdown: "x", Links: []string{"checkout"}}, "markdown"},
		{"url on markdown", runbooks.CreateInput{Title: "t", Kind: runbooks.Markdown, URL: "https://x.example", Links: []string{"checkout"}}, "url"},
		{"too many links", md("t", "x", many...), "links"},
		{"link to an API", md("t", "x", "api:payments"), "links[0]"},
		{"malformed link", md("t", "x", "component:"), "links[0]"},
		{"message too long", runbooks.CreateInput{Title: "t", Kind: runbooks.Markdown, Links: []string{"checkout"}, Message: strings.Repeat("m", runbooks.MaxMessage+1)}, "message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Create(bob, c.in)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != c.field {
				t.Errorf("%v (field %q), want INVALID naming %s", err, errs.FieldOf(err), c.field)
			}
		})
	}
	// A link the catalog does not hold is NOT_FOUND naming it, as a task's link is.
	if _, err := s.Create(bob, md("t", "x", "checkout", "ghost")); !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "links[1]" ||
		errs.PublicMessage(err) != "links[1]: no component component:default/ghost in the catalog" {
		t.Errorf("a link to nothing: %v (field %q), want NOT_FOUND naming links[1]", err, errs.FieldOf(err))
	}
	rb, err := s.Create(bob, md("t", "x", "checkout"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 0, Markdown: ptr("y")}); errs.FieldOf(err) != "baseVersion" {
		t.Errorf("an edit without base version: %v, want INVALID naming baseVersion", err)
	}
	if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr(strings.Repeat("x", runbooks.MaxBody+1))}); errs.FieldOf(err) != "markdown" {
		t.Errorf("an edit too large: %v, want INVALID naming markdown", err)
	}
	if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr(paddedTable)}); errs.FieldOf(err) != "markdown" ||
		!strings.Contains(err.Error(), "cells") {
		t.Errorf("an edit rendering to millions of cells: %v, want INVALID naming markdown", err)
	}
	for _, n := range []int{0, -1, runbooks.MaxPage + 1} {
		if _, err := s.Versions(bob, rb.ID, n); errs.FieldOf(err) != "first" {
			t.Errorf("versions(first: %d): %v, want INVALID naming first", n, err)
		}
	}
	if _, err := s.Runbooks(bob, runbooks.Filter{}, runbooks.MaxPage+1, ""); errs.FieldOf(err) != "first" {
		t.Errorf("runbooks(first: %d): %v, want INVALID naming first", runbooks.MaxPage+1, err)
	}
	if _, err := s.Runbooks(bob, runbooks.Filter{Query: strings.Repeat("q", runbooks.MaxQuery+1)}, 10, ""); errs.FieldOf(err) != "filter.query" {
		t.Errorf("a long query: %v, want INVALID naming filter.query", err)
	}
	if _, err := s.Runbooks(bob, runbooks.Filter{Entity: strings.Repeat("e", 513)}, 10, ""); errs.FieldOf(err) != "filter.entity" {
		t.Errorf("a long entity filter: %v, want INVALID naming filter.entity", err)
	}
	if _, err := s.Runbooks(bob, runbooks.Filter{Kind: "WIKI"}, 10, ""); errs.FieldOf(err) != "filter.kind" {
		t.Errorf("an unknown kind filter: %v, want INVALID naming filter.kind", err)
	}
	if _, _, err := s.EntityLinks(bob, entity(checkout), strings.Repeat("e", 201)); errs.FieldOf(err) != "environment" {
		t.Errorf("a long environment: %v, want INVALID naming environment", err)
	}
	if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Title: ptr(strings.Repeat("t", runbooks.MaxTitle+1))}); errs.FieldOf(err) != "title" {
		t.Errorf("an edit with a long title: %v, want INVALID naming title", err)
	}
	if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, URL: ptr("https://x.example")}); errs.FieldOf(err) != "url" {
		t.Errorf("an edit giving a MARKDOWN runbook a URL: %v, want INVALID naming url", err)
	}
	if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Message: strings.Repeat("m", runbooks.MaxMessage+1)}); errs.FieldOf(err) != "message" {
		t.Errorf("an edit with a long message: %v, want INVALID naming message", err)
	}
	if _, err := s.Runbooks(bob, runbooks.Filter{}, 10, "bogus"); errs.FieldOf(err) != "after" {
		t.Errorf("a bad cursor: %v, want INVALID naming after", err)
	}
	if _, err := s.Link(bob, rb.ID, strings.Repeat("x", 600)); errs.FieldOf(err) != "entity[0]" && errs.FieldOf(err) != "entity" {
		t.Errorf("a long ref: %v, want INVALID naming entity", err)
	}
}

func TestRunbooksAreFoundByTitleEntityAndKindOnePageAtATime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newService(t, st, runbooks.Options{})
		for _, in := range []runbooks.CreateInput{
			md("Checkout: database failover", "x", "checkout"),
			md("Checkout: 100% CPU", "x", "checkout"),
			{Title: "Shop status page", Kind: runbooks.Link, URL: "https://status.example.com", Links: []string{"system:shop"}},
			md("Payments_restart", "x", "payments"),
		} {
			ctx := bob
			if strings.HasPrefix(in.Title, "Payments") {
				ctx = carol
			}
			if _, err := s.Create(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		titles := func(f runbooks.Filter, first int, after string) ([]string, *runbooks.Page) {
			t.Helper()
			p, err := s.Runbooks(carol, f, first, after)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, rb := range p.Runbooks {
				out = append(out, rb.Title)
			}
			return out, p
		}
		if got, p := titles(runbooks.Filter{Query: "CHECKOUT"}, 10, ""); len(got) != 2 || p.TotalCount != 2 {
			t.Errorf("query checkout: %v", got)
		}
		if got, _ := titles(runbooks.Filter{Query: "100%"}, 10, ""); len(got) != 1 || got[0] != "Checkout: 100% CPU" {
			t.Errorf("query 100%% (a LIKE wildcard, matched as itself): %v", got)
		}
		if got, _ := titles(runbooks.Filter{Query: "s_r"}, 10, ""); len(got) != 1 || got[0] != "Payments_restart" {
			t.Errorf("query s_r (a LIKE wildcard, matched as itself): %v", got)
		}
		if got, _ := titles(runbooks.Filter{Entity: "system:shop"}, 10, ""); len(got) != 1 || got[0] != "Shop status page" {
			t.Errorf("entity system:shop: %v", got)
		}
		if got, _ := titles(runbooks.Filter{Kind: runbooks.Link}, 10, ""); len(got) != 1 {
			t.Errorf("kind LINK: %v", got)
		}
		first, p := titles(runbooks.Filter{}, 3, "")
		if len(first) != 3 || !p.HasNextPage || p.TotalCount != 4 {
			t.Fatalf("first page: %v %+v", first, p)
		}
		rest, p := titles(runbooks.Filter{}, 3, p.Cursors[2])
		if len(rest) != 1 || p.HasNextPage || rest[0] != "Payments_restart" {
			t.Errorf("second page: %v", rest)
		}
		on, err := s.ForEntity(carol, checkout)
		if err != nil || len(on) != 2 {
			t.Errorf("runbooks of checkout: %+v, %v", on, err)
		}
	})
}

// The text search finds runbooks by the words of their title and text together, each query word
// as the start of a word, accents and case aside, as the catalog's search finds entities; an edit
// re-indexes the runbook and a deleted one is no longer found.
func TestRunbooksAreFoundByTheWordsOfTheirTitleAndText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newService(t, st, runbooks.Options{})
		failover, err := s.Create(bob, md("Checkout: database failover", "# Failover\n\nPromote the **replica** in Zürich, then check `pg_stat_replication`.", "checkout"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(bob, md("Checkout: 100% CPU", "Scale out the checkout pods; see the replica lag dashboard.", "checkout")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(bob, runbooks.CreateInput{Title: "Shop status page", Kind: runbooks.Link, URL: "https://status.example.com/replica", Links: []string{"system:shop"}}); err != nil {
			t.Fatal(err)
		}
		found := func(text string) []string {
			t.Helper()
			p, err := s.Runbooks(carol, runbooks.Filter{Text: text}, 10, "")
			if err != nil {
				t.Fatalf("text %q: %v", text, err)
			}
			out := []string{}
			for _, rb := range p.Runbooks {
				out = append(out, rb.Title)
			}
			if int(p.TotalCount) != len(out) {
				t.Errorf("text %q: totalCount %d for %d runbooks", text, p.TotalCount, len(out))
			}
			return out
		}
		for text, want := range map[string][]string{
			"replica":               {"Checkout: database failover", "Checkout: 100% CPU"}, // the text, not the LINK's URL
			"REPL":                  {"Checkout: database failover", "Checkout: 100% CPU"}, // a prefix, any case
			"zurich":                {"Checkout: database failover"},                       // accents aside
			"Zürich promote":        {"Checkout: database failover"},                       // every word, in any order
			"failover cpu":          {},
			"checkout":              {"Checkout: database failover", "Checkout: 100% CPU"}, // titles too
			"pg_stat_replication":   {"Checkout: database failover"},                       // words of code
			"status page":           {"Shop status page"},                                  // a LINK runbook by its title
			"plica":                 {},                                                    // word starts only
			"\"replica\" -cpu* | !": {"Checkout: 100% CPU"},                                // FTS5 and tsquery syntax is text: the words replica and cpu
		} {
			if got := found(text); !slices.Equal(got, want) {
				t.Errorf("text %q found %q, want %q", text, got, want)
			}
		}
		got, err := s.Runbooks(carol, runbooks.Filter{Text: "replica", Entity: "checkout", Kind: runbooks.Markdown}, 1, "")
		if err != nil || len(got.Runbooks) != 1 || !got.HasNextPage || got.TotalCount != 2 {
			t.Errorf("text with entity and kind, one per page: %+v, %v", got, err)
		}
		if _, err := s.Update(bob, runbooks.UpdateInput{ID: failover.ID, BaseVersion: 1, Markdown: ptr("Fail over to the standby in Frankfurt.")}); err != nil {
			t.Fatal(err)
		}
		if got := found("zurich"); len(got) != 0 {
			t.Errorf("after the edit, zurich still finds %q", got)
		}
		if got := found("frankfurt standby"); !slices.Equal(got, []string{"Checkout: database failover"}) {
			t.Errorf("after the edit, frankfurt standby finds %q", got)
		}
		if err := s.Delete(bob, failover.ID); err != nil {
			t.Fatal(err)
		}
		if got := found("frankfurt"); len(got) != 0 {
			t.Errorf("a deleted runbook is still found: %q", got)
		}
	})
}

func TestATextSearchIsBoundedAndNeedsAWord(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st, runbooks.Options{})
	if _, err := s.Runbooks(bob, runbooks.Filter{Text: strings.Repeat("w ", runbooks.MaxQuery/2+1)}, 10, ""); errs.FieldOf(err) != "filter.text" {
		t.Errorf("a long text: %v, want INVALID naming filter.text", err)
	}
	if _, err := s.Runbooks(bob, runbooks.Filter{Text: `"*" ()`}, 10, ""); errs.FieldOf(err) != "filter.text" {
		t.Errorf("a text without words: %v, want INVALID naming filter.text", err)
	}
	if _, err := s.Runbooks(context.Background(), runbooks.Filter{Text: "replica"}, 10, ""); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("an anonymous search: %v, want UNAUTHENTICATED", err)
	}
}

func TestRenderedHTMLIsCachedByVersion(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st, runbooks.Options{})
	rb, err := s.Create(bob, md("t", "# One\n<script>alert(1)</script>\n", "checkout"))
	if err != nil {
		t.Fatal(err)
	}
	h1, err := s.HTML(rb)
	if err != nil || !strings.Contains(h1, `<h1 id="one">One</h1>`) || strings.Contains(h1, "script") {
		t.Fatalf("HTML of v1 = %q, %v", h1, err)
	}
	rb2, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("# Two\n")})
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := s.HTML(rb2); !strings.Contains(h2, "Two") {
		t.Errorf("HTML of v2 = %q", h2)
	}
	link := runbooks.Runbook{ID: 99, Kind: runbooks.Link, URL: "https://x.example", Version: 1}
	if h, err := s.HTML(link); err != nil || h != "" {
		t.Errorf("HTML of a LINK runbook = %q, %v; want none", h, err)
	}
}

// A runbook is linked to at most MaxLinks entities, however the links are added.
func TestARunbookIsLinkedToAtMostFiftyEntities(t *testing.T) {
	st := storetest.SQLite(t)
	cat := &fakeCatalog{entities: map[string]*backstage.Entity{}, owners: map[string][]string{}}
	var refs []string
	for i := range runbooks.MaxLinks + 1 {
		ref := "component:default/c" + strconv.Itoa(i)
		cat.entities[ref], cat.owners[ref] = entity(ref), []string{"bob"}
		refs = append(refs, ref)
	}
	s := runbooks.NewService(st, runbooks.Options{Catalog: cat})
	rb, err := s.Create(bob, md("t", "x", refs[:runbooks.MaxLinks]...))
	if err != nil || len(rb.Links) != runbooks.MaxLinks {
		t.Fatalf("create with %d links: %v", runbooks.MaxLinks, err)
	}
	if _, err := s.Link(bob, rb.ID, refs[runbooks.MaxLinks]); errs.FieldOf(err) != "entity" {
		t.Errorf("a 51st link: %v, want INVALID naming entity", err)
	}
	if _, err := s.Link(bob, rb.ID, refs[0]); err != nil {
		t.Errorf("linking again what is linked (nothing changes): %v", err)
	}
}

// Links added at once to a runbook one short of the bound: exactly one gets in.
func TestConcurrentLinksCannotPassTheBoundTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		cat := &fakeCatalog{entities: map[string]*backstage.Entity{}, owners: map[string][]string{}}
		var refs []string
		for i := range runbooks.MaxLinks + 8 {
			ref := "component:default/c" + strconv.Itoa(i)
			cat.entities[ref], cat.owners[ref] = entity(ref), []string{"bob"}
			refs = append(refs, ref)
		}
		s := runbooks.NewService(st, runbooks.Options{Catalog: cat})
		rb, err := s.Create(bob, md("t", "x", refs[:runbooks.MaxLinks-1]...))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, ref := range refs[runbooks.MaxLinks-1:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _ = s.Link(bob, rb.ID, ref)
			}()
		}
		close(start)
		wg.Wait()
		got, err := s.Runbook(bob, rb.ID)
		if err != nil || len(got.Links) != runbooks.MaxLinks {
			t.Errorf("after concurrent links: %d links (%v), want exactly %d", len(got.Links), err, runbooks.MaxLinks)
		}
	})
}

// A version stored before renderings were bounded, which cannot be rendered within them, is
// answered as such when read (naming it), and concurrent readers share one rendering.
func TestAStoredVersionThatCannotBeRenderedIsAnsweredSo(t *testing.T) {
	s := newService(t, storetest.SQLite(t), runbooks.Options{})
	rb := runbooks.Runbook{ID: 42, Version: 3, Kind: runbooks.Markdown, Markdown: paddedTable}
	var wg sync.WaitGroup
	errsSeen := make([]error, 8)
	for i := range errsSeen {
		wg.Go(func() { _, errsSeen[i] = s.HTML(rb) })
	}
	wg.Wait()
	for _, err := range errsSeen {
		if errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), "runbook 42 version 3 cannot be shown: its markdown: has tables of") {
			t.Errorf("HTML of the stored version: %v", err)
		}
	}
	ok := runbooks.Runbook{ID: 42, Version: 4, Kind: runbooks.Markdown, Markdown: "# Restart\n\n1. `kubectl rollout restart`\n"}
	if html, err := s.HTML(ok); err != nil || !strings.Contains(html, "<h1") {
		t.Errorf("HTML of the next version: %q, %v", html, err)
	}
}

// A title reads as what it says: control characters (terminal escapes, tabs) and bidirectional
// controls are refused on create and edit, naming the field, as task titles refuse them.
func TestATitleHoldsNoControlOrBidirectionalCharacters(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st, runbooks.Options{})
	rb, err := s.Create(bob, md("Zürich 🚨 failover", "x", "checkout"))
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"t\x1b[31mred\x07", "tab\there", "evil\u202Etxt.exe", "a\u2066b", "line\u2028sep", "\u200b\u200b"} {
		if _, err := s.Create(bob, md(title, "x", "checkout")); errs.FieldOf(err) != "title" {
			t.Errorf("creating a runbook titled %q: %v, want INVALID naming title", title, err)
		}
		if _, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Title: ptr(title)}); errs.FieldOf(err) != "title" {
			t.Errorf("renaming a runbook %q: %v, want INVALID naming title", title, err)
		}
	}
}

// Linking names the input a client sent (entity), and the record of a creation names the runbook
// it created, so that its later records (resource "runbook N") lead back to it.
func TestLinkErrorsNameEntityAndTheCreationRecordNamesTheRunbook(t *testing.T) {
	st := storetest.SQLite(t)
	log := audit.New(st, nil)
	s := newService(t, st, runbooks.Options{Audit: log})
	rb, err := s.Create(bob, md("Checkout", "x", "checkout"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"group:team", "::", strings.Repeat("x", 600)} {
		if _, err := s.Link(bob, rb.ID, ref); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "entity" || !strings.HasPrefix(err.Error(), "entity: ") {
			t.Errorf("linking to %.20q: %v (field %q), want INVALID naming entity", ref, err, errs.FieldOf(err))
		}
	}
	if _, err := s.Link(bob, rb.ID, "nope"); !errs.Is(err, errs.NotFound) || errs.PublicMessage(err) != "entity: no component component:default/nope in the catalog" {
		t.Errorf("linking to a component the catalog does not hold: %v (field %q), want NOT_FOUND naming entity", err, errs.FieldOf(err))
	}
	if _, err := s.Link(bob, rb.ID, "api:payments"); err == nil || errs.PublicMessage(err) != "entity: api:default/payments is of kind api; runbooks link to components and systems" {
		t.Errorf("linking to an API: %v, want INVALID saying its kind", err)
	}
	recs, err := log.Query(admin, audit.Filter{}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs.Records {
		if r.Action == "runbooks.runbook.create" && r.Outcome == audit.OK {
			found = true
			if !strings.Contains(string(r.Arguments), `"id":`+itoa(rb.ID)) {
				t.Errorf("the creation record %s does not name runbook %d", r.Arguments, rb.ID)
			}
		}
	}
	if !found {
		t.Error("no record of the creation")
	}
}

// Saving a runbook as it is (the same title, text or URL) is no edit: it records no version, and
// the action's one audit record says nothing changed; the next real edit is still version 2.
func TestAnEditThatChangesNothingRecordsNoVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		log := audit.New(st, nil)
		s := newService(t, st, runbooks.Options{Audit: log})
		rb, err := s.Create(bob, md("Checkout is down", "# Checkout\n\n1. look\n", "checkout"))
		if err != nil {
			t.Fatal(err)
		}
		link, err := s.Create(bob, runbooks.CreateInput{Title: "Wiki", Kind: runbooks.Link, URL: "https://wiki.example.com/checkout", Links: []string{"checkout"}})
		if err != nil {
			t.Fatal(err)
		}
		same := []runbooks.UpdateInput{
			{ID: rb.ID, BaseVersion: 1, Title: ptr("Checkout is down"), Markdown: ptr("# Checkout\n\n1. look\n"), Message: "save"},
			{ID: rb.ID, BaseVersion: 1, Title: ptr("  Checkout is down "), Message: "the title as stored, once trimmed"},
			{ID: rb.ID, BaseVersion: 1, Message: "nothing given"},
			{ID: link.ID, BaseVersion: 1, URL: ptr("https://wiki.example.com/checkout"), Title: ptr("Wiki"), Message: "the same URL"},
		}
		for i, in := range same {
			got, err := s.Update(bob, in)
			if err != nil {
				t.Fatalf("edit %d (%s): %v", i, in.Message, err)
			}
			if got.Version != 1 || got.UpdatedAt.IsZero() || got.Title == "" {
				t.Errorf("edit %d (%s): got %+v, want the runbook as it was (version 1)", i, in.Message, got)
			}
			if vs, err := s.Versions(bob, in.ID, 10); err != nil || len(vs) != 1 {
				t.Errorf("edit %d (%s): %d versions (%v), want 1", i, in.Message, len(vs), err)
			}
		}
		recs, err := log.Query(admin, audit.Filter{}, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		unchanged := 0
		for _, r := range recs.Records {
			if r.Action == "runbooks.runbook.update" {
				if r.Outcome != audit.OK || !strings.Contains(string(r.Arguments), `"unchanged":true`) {
					t.Errorf("the record of an edit that changed nothing: %s %s", r.Outcome, r.Arguments)
				}
				unchanged++
			}
		}
		if unchanged != len(same) {
			t.Errorf("%d update records, want one per call (%d)", unchanged, len(same))
		}
		got, err := s.Update(bob, runbooks.UpdateInput{ID: rb.ID, BaseVersion: 1, Markdown: ptr("# Checkout\n\n1. look\n2. restart\n")})
		if err != nil || got.Version != 2 {
			t.Fatalf("a real edit after the no-ops: %+v, %v; want version 2", got, err)
		}
	})
}
