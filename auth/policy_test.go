package auth_test

import (
	"strings"
	"testing"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/errs"
)

func TestCanGivesEachActionToTheRolesThatMayTakeIt(t *testing.T) {
	viewer := &auth.Principal{Username: "carol", Kind: auth.KindSession}
	admin := &auth.Principal{Username: "alice", Kind: auth.KindSession, Admin: true}
	readOnly := &auth.Principal{Username: "ci", Kind: auth.KindToken, Scopes: []string{"read"}}
	owned := auth.Resource{Name: "location 1", OwnedByCaller: true}
	own := auth.Resource{Name: "token 1", CallersOwn: true}
	other := auth.Resource{Name: "token 2"}
	tests := []struct {
		name string
		p    *auth.Principal
		a    auth.Action
		r    auth.Resource
		want errs.Code // "" = allowed
	}{
		{"nobody cannot register", nil, auth.LocationRegister, other, errs.Unauthenticated},
		{"a viewer cannot register", viewer, auth.LocationRegister, other, errs.Forbidden},
		{"an owner cannot register either", viewer, auth.LocationRegister, owned, errs.Forbidden},
		{"an admin registers", admin, auth.LocationRegister, other, ""},
		{"a viewer cannot refresh what it does not own", viewer, auth.LocationRefresh, other, errs.Forbidden},
		{"an owner refreshes its location", viewer, auth.LocationRefresh, owned, ""},
		{"an admin refreshes any location", admin, auth.LocationRefresh, other, ""},
		{"only admins unregister", viewer, auth.LocationUnregister, owned, errs.Forbidden},
		{"admins unregister", admin, auth.LocationUnregister, other, ""},
		{"anyone signed in creates tokens", viewer, auth.TokenCreate, own, ""},
		{"one revokes one's own token", viewer, auth.TokenRevoke, own, ""},
		{"not someone else's", viewer, auth.TokenRevoke, other, errs.Forbidden},
		{"admins revoke anyone's", admin, auth.TokenRevoke, other, ""},
		{"one ends one's own session", viewer, auth.SessionRevoke, own, ""},
		{"not someone else's session", viewer, auth.SessionRevoke, other, errs.Forbidden},
		{"a read-only token cannot change anything", readOnly, auth.TokenRevoke, own, errs.Forbidden},
		{"a read-only token reads the audit log", readOnly, auth.AuditRead, other, ""},
		{"login needs nobody", nil, auth.Login, other, ""},
		{"an unknown action is refused, not allowed", admin, auth.Action("x.y.z"), other, errs.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.Can(tc.p, tc.a, tc.r)
			if tc.want == "" && err != nil {
				t.Fatalf("Can = %v, want allowed", err)
			}
			if tc.want != "" && !errs.Is(err, tc.want) {
				t.Fatalf("Can = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestDenialsDoNotNameTheResource(t *testing.T) {
	err := auth.Can(&auth.Principal{Username: "carol"}, auth.TokenRevoke, auth.Resource{Name: "token 42 of alice"})
	if err == nil || errs.PublicMessage(err) == "" {
		t.Fatalf("want a denial, got %v", err)
	}
	if msg := errs.PublicMessage(err); strings.Contains(msg, "alice") || strings.Contains(msg, "42") {
		t.Fatalf("denial %q reveals the resource", msg)
	}
}

func TestSafeReturnPathRefusesOpenRedirects(t *testing.T) {
	for _, bad := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "catalog", "/x\r\nSet-Cookie: a=b", "http:/evil"} {
		if _, err := auth.SafeReturnPath(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("SafeReturnPath(%q) = %v, want INVALID", bad, err)
		}
	}
	for in, want := range map[string]string{"": "/", "/": "/", "/catalog?kind=component#top": "/catalog?kind=component#top", "/graphiql": "/graphiql"} {
		if got, err := auth.SafeReturnPath(in); err != nil || got != want {
			t.Errorf("SafeReturnPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
