package graph_test

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

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
}

func TestAPersistedQueryMistakeIsTheRequestsMistake(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 0)
	wantInvalid(t, a.errorsOf(`{ me { username } }`, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "zz"}})),
		"PERSISTED_QUERY_INVALID", "does not match")
	wantInvalid(t, a.errorsOf(`{ me { username } }`, client.Extensions(map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": "zz"}})),
		"PERSISTED_QUERY_INVALID", "version")
}
