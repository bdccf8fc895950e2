package graph_test

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store/storetest"
)

// The parts of search and a runbook's versions take first from 1 to 100, as the schema says, and
// refuse anything else as entities(first:) does: INVALID naming first, with the bound the schema
// documents (not the catalog's 500, which search.entities would otherwise pass on).
func TestSearchAndVersionsHoldFirstToTheDocumentedBounds(t *testing.T) {
	a, books := newTasksAPI(t, storetest.SQLite(t))
	rb, err := books.Create(operator, runbooks.CreateInput{Title: "Payments down", Kind: runbooks.Markdown, Markdown: "Fail over.", Links: []string{"payments-api"}})
	if err != nil {
		t.Fatal(err)
	}
	id := client.Var("id", model.EncodeNumericID("Runbook", rb.ID))
	for _, tc := range []struct {
		query, message string
	}{
		{`{ search(text: "payments") { runbooks(first: 0) { totalCount } } }`, "first: must be between 1 and 100, got 0"},
		{`{ search(text: "payments") { runbooks(first: -1) { totalCount } } }`, "first: must be between 1 and 100, got -1"},
		{`{ search(text: "payments") { runbooks(first: 101) { totalCount } } }`, "first: must be between 1 and 100, got 101"},
		{`{ search(text: "payments") { entities(first: 0) { totalCount } } }`, "first: must be between 1 and 100, got 0"},
		{`{ search(text: "payments") { entities(first: 101) { totalCount } } }`, "first: must be between 1 and 100, got 101"},
		{`query($id: ID!) { runbook(id: $id) { versions(first: 0) { version } } }`, "first: must be between 1 and 100, got 0"},
		{`query($id: ID!) { runbook(id: $id) { versions(first: 101) { version } } }`, "first: must be between 1 and 100, got 101"},
	} {
		var opts []client.Option
		if strings.Contains(tc.query, "$id") {
			opts = append(opts, id)
		}
		list := a.errorsOf(tc.query, opts...)
		if len(list) != 1 {
			t.Errorf("%s: %d errors %+v, want one, INVALID naming first: %q", tc.query, len(list), list, tc.message)
			continue
		}
		if e := list[0]; e.Extensions["code"] != "INVALID" || e.Extensions["field"] != "first" || e.Message != tc.message {
			t.Errorf("%s: %+v, want INVALID naming first: %q", tc.query, list, tc.message)
		}
	}
	// The bounds themselves are allowed.
	var got struct {
		Search struct {
			Entities, Runbooks struct{ TotalCount int }
		}
		Runbook struct{ Versions []struct{ Version int } }
	}
	a.query(&got, `query($id: ID!) { search(text: "payments") { entities(first: 100) { totalCount } runbooks(first: 1) { totalCount } }
		runbook(id: $id) { versions(first: 1) { version } } }`, id)
	if got.Search.Runbooks.TotalCount != 1 || got.Search.Entities.TotalCount < 1 || len(got.Runbook.Versions) != 1 {
		t.Errorf("at the bounds: %+v", got)
	}
}

// A runbook's link to an entity the catalog does not hold is NOT_FOUND naming the input, as a
// task's link is; one of another kind is INVALID.
func TestRunbookLinksToMissingEntitiesAreNotFound(t *testing.T) {
	a, books := newTasksAPI(t, storetest.SQLite(t))
	rb, err := books.Create(operator, runbooks.CreateInput{Title: "Payments down", Kind: runbooks.Markdown, Markdown: "Fail over.", Links: []string{"payments-api"}})
	if err != nil {
		t.Fatal(err)
	}
	id := client.Var("id", model.EncodeNumericID("Runbook", rb.ID))
	for _, tc := range []struct {
		query, code, field, message string
	}{
		{`mutation { createRunbook(input: {title: "t", kind: MARKDOWN, markdown: "x", links: ["payments-api", "ghost"]}) { runbook { id } } }`,
			"NOT_FOUND", "links[1]", "links[1]: no component component:default/ghost in the catalog"},
		{`mutation($id: ID!) { linkRunbook(input: {id: $id, entity: "system:ghost"}) { runbook { id } } }`,
			"NOT_FOUND", "entity", "entity: no system system:default/ghost in the catalog"},
		{`mutation($id: ID!) { linkRunbook(input: {id: $id, entity: "api:payments"}) { runbook { id } } }`,
			"INVALID", "entity", "entity: api:default/payments is of kind api; runbooks link to components and systems"},
	} {
		var opts []client.Option
		if strings.Contains(tc.query, "$id") {
			opts = append(opts, id)
		}
		list := a.errorsOf(tc.query, opts...)
		if len(list) != 1 || list[0].Extensions["code"] != tc.code || list[0].Extensions["field"] != tc.field || list[0].Message != tc.message {
			t.Errorf("%s: %+v, want %s naming %s: %q", tc.query, list, tc.code, tc.field, tc.message)
		}
	}
}
