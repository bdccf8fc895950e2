package graph_test

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// wantInvalid checks that list is one INVALID error whose message holds every part of want.
func wantInvalid(t *testing.T, list []gqlError, reason string, want ...string) {
	t.Helper()
	if len(list) != 1 || list[0].Extensions["code"] != "INVALID" || (reason != "" && list[0].Extensions["reason"] != reason) {
		t.Fatalf("errors %+v, want one INVALID (reason %q)", list, reason)
	}
	for _, w := range want {
		if !strings.Contains(list[0].Message, w) {
			t.Errorf("message %q does not say %q", list[0].Message, w)
		}
	}
}

func TestAnInputHoldingANulCharacterIsRefusedNamingWhereOnBothDatabases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 0).withDemo()
		wantInvalid(t, a.errorsOf(`{ entities(filter:{text:"pay\u0000ments"}, first:5){ totalCount } }`),
			"NUL_CHARACTER", "the argument entities(filter:).text holds a NUL character")
		wantInvalid(t, a.errorsOf(`query($f:EntityFilter){ entities(filter:$f, first:5){ totalCount } }`,
			client.Var("f", map[string]any{"owners": []string{"team-a", "team\x00b"}})),
			"NUL_CHARACTER", "variables.f.owners[1] holds a NUL character")
		wantInvalid(t, a.errorsOf(`query($r:String!){ entity(ref:$r){ name } }`, client.Var("r", "component:default/pay\x00")),
			"NUL_CHARACTER", "variables.r holds")
		// Through the other escape, and as the byte itself (which the lexer refuses).
		wantInvalid(t, a.errorsOf(`{ entities(filter:{text:"pay\u{0}ments"}, first:5){ totalCount } }`), "")
		wantInvalid(t, a.errorsOf("{ entities(filter:{text:\"pay\x00ments\"}, first:5){ totalCount } }"), "")
		// The same text without the NUL is a query like any other.
		var resp struct{ Entities struct{ TotalCount int } }
		a.query(&resp, `{ entities(filter:{text:"payments"}, first:5){ totalCount } }`)
	})
}

func TestATimeThatIsNoTimeIsTheRequestsMistake(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 0)
	for _, v := range []string{"yesterday", "2026-12-06", "2026-12-06T25:00:00Z", "10000-01-01T00:00:00Z"} {
		wantInvalid(t, a.errorsOf(`query($s:Time){ dora(since:$s){ deployments } }`, client.Var("s", v)),
			"", "is not a Time", "RFC 3339", v)
	}
	wantInvalid(t, a.errorsOf(`query($s:Time){ dora(since:$s){ deployments } }`, client.Var("s", 5)), "", "is not a Time")
	// The zero time, however written, stands for no time: as a window's end it was answered
	// null in a Time! (an internal error); as a meeting's date, taken for none (now).
	for _, v := range []string{"0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00"} {
		wantInvalid(t, a.errorsOf(`query($u:Time){ dora(until:$u){ until } }`, client.Var("u", v)), "", "is the zero time", v)
		wantInvalid(t, a.errorsOf(`{ dora(since:"`+v+`", until:"0001-01-02T00:00:00Z"){ since } }`), "", "is the zero time")
	}
}

func TestAPersistedQueryMistakeIsTheRequestsMistake(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 0)
	wantInvalid(t, a.errorsOf(`{ me { username } }`, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "zz"}})),
		"PERSISTED_QUERY_INVALID", "does not match")
	wantInvalid(t, a.errorsOf(`{ me { username } }`, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": "zz"}})),
		"PERSISTED_QUERY_INVALID", "version")
}

// A facet limit is 1 to 1000, as the message has always said: 0, which the catalog reads as its
// most for its own callers, was let through (a thousand values a field, weighed as a hundred by
// the complexity limit).
func TestAFacetLimitBelowOneIsTheRequestsMistake(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 0)
	for _, n := range []string{"0", "-1", "1001"} {
		list := a.errorsOf(`{ facets(fields:[KIND], limit:` + n + `){ values { value } } }`)
		wantInvalid(t, list, "", "limit", "must be between 1 and 1000, got "+n)
		if list[0].Extensions["field"] != "limit" {
			t.Errorf("limit %s: extensions %v, want field limit", n, list[0].Extensions)
		}
	}
}

// A text search's text is bounded as the search's and the runbooks' are: 200 bytes.
func TestATextSearchLongerThanItsBoundIsTheRequestsMistake(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 0).withDemo()
	long := strings.Repeat("pay ", 50) + "x"
	for _, q := range []string{
		`query($t:String){ entities(filter:{text:$t}, first:3){ totalCount } }`,
		`query($t:String){ facets(filter:{text:$t}, fields:[KIND]){ field } }`,
	} {
		list := a.errorsOf(q, client.Var("t", long))
		// Named as the input: a member of the filter argument, as every domain's filters name theirs.
		wantInvalid(t, list, "", "filter.text: has 201 bytes; at most 200")
		if list[0].Extensions["field"] != "filter.text" {
			t.Errorf("extensions %v, want field filter.text", list[0].Extensions)
		}
	}
	// search(text:) names its own argument.
	wantInvalid(t, a.errorsOf(`query($t:String!){ search(text:$t){ text } }`, client.Var("t", long)), "", "text: has 201 bytes")
	var resp struct{ Entities struct{ TotalCount int } }
	a.query(&resp, `query($t:String){ entities(filter:{text:$t}, first:3){ totalCount } }`, client.Var("t", long[:200]))
	if resp.Entities.TotalCount == 0 {
		t.Errorf("200 bytes of pay: no entity found")
	}
}

// node(id:) reads back a Node's ID; an ID Portside hands out for something that is not a Node is
// refused naming the field that reads it, not called "not a Portside ID".
func TestNodeNamesTheFieldThatReadsAnIDItDoesNotResolve(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 0)
	for typ, field := range map[string]string{"Runbook": "runbook(id:)", "AuditRecord": "auditRecords", "ApiToken": "apiTokens", "Alert": "alert(id:)"} {
		list := a.errorsOf(`query($id: ID!){ node(id: $id){ id } }`, client.Var("id", model.EncodeNumericID(typ, 1)))
		wantInvalid(t, list, "", "is the ID of "+map[bool]string{true: "an ", false: "a "}[strings.ContainsRune("AEIOU", rune(typ[0]))]+typ, "read it with "+field)
	}
	wantInvalid(t, a.errorsOf(`{ node(id: "bm9wZQ"){ id } }`), "", "not a Portside ID")
}
