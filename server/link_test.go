package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// hiddenTeam is a catalog where User quinn is a member of team-hidden, which owns hidden-svc.
const hiddenTeam = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-hidden
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: quinn
spec:
  profile:
    email: quinn@acme.example
  memberOf: [team-hidden]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: hidden-svc
spec:
  type: service
  lifecycle: production
  owner: team-hidden
`

// The probe (on the demo's erin): a person who never signed in; `portside token create --user quinn` gave her team's automation
// a token. The token is quinn, and quinn owns what team-hidden owns.
func TestATokenUserWhoNeverSignedInOwnsWhatTheirCatalogTeamOwns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		dir := t.TempDir()
		path := filepath.Join(dir, "catalog-info.yaml")
		if err := os.WriteFile(path, []byte(hiddenTeam), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := p.cat.RegisterLocation(operator(), catalog.LocationSpec{Type: catalog.LocationFile, Target: path})
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("register: %v %+v", err, res)
		}
		// As the CLI makes it: another process, without the catalog.
		secret, _, err := cliAuth(st).CreateToken(operator(), auth.TokenSpec{Username: "quinn", Name: "team-automation"})
		if err != nil {
			t.Fatal(err)
		}
		me := p.gql(http.DefaultClient, bearer(secret), `{ me { username user { ref memberOf { ref } } } }`, nil)
		if me.Status != http.StatusOK || len(me.Errors) > 0 {
			t.Fatalf("me: %d %+v", me.Status, me.Errors)
		}
		user, _ := me.Data["me"].(map[string]any)["user"].(map[string]any)
		if user == nil || user["ref"] != "user:default/quinn" || !strings.Contains(toJSON(user["memberOf"]), "group:default/team-hidden") {
			t.Fatalf("me { user } = %v, want user:default/quinn, member of team-hidden", me.Data["me"])
		}
		refresh := p.gql(http.DefaultClient, bearer(secret), `mutation($id: ID!) { refreshLocation(id: $id) { location { id } } }`,
			map[string]any{"id": model.EncodeNumericID("Location", res.Location.ID)})
		if refresh.Status != http.StatusOK || len(refresh.Errors) > 0 {
			t.Fatalf("quinn's token refreshing her team's location: %d %+v, want it allowed (owner)", refresh.Status, refresh.Errors)
		}
	})
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
