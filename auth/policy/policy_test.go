package policy_test

import (
	"strings"
	"testing"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

func TestCanGivesEachActionToTheRolesThatMayTakeIt(t *testing.T) {
	viewer := &principal.Principal{Username: "carol", Kind: principal.KindSession}
	admin := &principal.Principal{Username: "alice", Kind: principal.KindSession, Admin: true}
	readOnly := &principal.Principal{Username: "ci", Kind: principal.KindToken, Scopes: []string{"read"}}
	owned := policy.Resource{Name: "location 1", OwnedByCaller: true}
	own := policy.Resource{Name: "token 1", CallersOwn: true}
	other := policy.Resource{Name: "token 2"}
	tests := []struct {
		name string
		p    *principal.Principal
		a    policy.Action
		r    policy.Resource
		want errs.Code // "" = allowed
	}{
		{"nobody cannot register", nil, policy.LocationRegister, other, errs.Unauthenticated},
		{"a viewer cannot register", viewer, policy.LocationRegister, other, errs.Forbidden},
		{"an owner cannot register either", viewer, policy.LocationRegister, owned, errs.Forbidden},
		{"an admin registers", admin, policy.LocationRegister, other, ""},
		{"a viewer cannot refresh what it does not own", viewer, policy.LocationRefresh, other, errs.Forbidden},
		{"an owner refreshes its location", viewer, policy.LocationRefresh, owned, ""},
		{"an admin refreshes any location", admin, policy.LocationRefresh, other, ""},
		{"only admins unregister", viewer, policy.LocationUnregister, owned, errs.Forbidden},
		{"admins unregister", admin, policy.LocationUnregister, other, ""},
		{"anyone signed in creates tokens", viewer, policy.TokenCreate, own, ""},
		{"one revokes one's own token", viewer, policy.TokenRevoke, own, ""},
		{"not someone else's", viewer, policy.TokenRevoke, other, errs.Forbidden},
		{"admins revoke anyone's", admin, policy.TokenRevoke, other, ""},
		{"one ends one's own session", viewer, policy.SessionRevoke, own, ""},
		{"not someone else's session", viewer, policy.SessionRevoke, other, errs.Forbidden},
		{"a read-only token cannot change anything", readOnly, policy.TokenRevoke, own, errs.Forbidden},
		{"a read-only token reads the audit log", readOnly, policy.AuditRead, other, ""},
		{"login needs nobody", nil, policy.Login, other, ""},
		{"an unknown action is refused, not allowed", admin, policy.Action("x.y.z"), other, errs.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := policy.Can(tc.p, tc.a, tc.r)
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
	err := policy.Can(&principal.Principal{Username: "carol"}, policy.TokenRevoke, policy.Resource{Name: "token 42 of alice"})
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
