package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// signedIn is one person's browser session on the portal.
type signedIn struct {
	name string
	b    *browser
}

func (p *portal) session(user string) signedIn {
	p.t.Helper()
	b := newBrowser()
	readAll(p.t, p.signIn(b, user, user+"-pw", "/"))
	return signedIn{user, b}
}

func (p *portal) as(s signedIn, query string) gqlResult {
	p.t.Helper()
	return p.gql(s.b.Client, p.fromPortal(), query, nil)
}

// operator is the CLI's authority, for setting the scene.
func operator() context.Context {
	return principal.With(context.Background(), principal.System("test", principal.ClientCLI))
}

// fileLocation registers a one-entity file location owned by team-payments and returns its
// GraphQL ID.
func (p *portal) fileLocation(t *testing.T, name string) string {
	t.Helper()
	return p.fileLocationOwnedBy(t, name, "team-payments")
}

// fileLocationOwnedBy registers a one-entity file location whose component owner owns and
// returns its GraphQL ID.
func (p *portal) fileLocationOwnedBy(t *testing.T, name, owner string) string {
	t.Helper()
	p.files++
	name += "-" + strconv.Itoa(p.files) // each location brings its own entity: no clashes
	dir := t.TempDir()
	doc := fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n", name, owner)
	path := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := p.cat.RegisterLocation(operator(), catalog.LocationSpec{Type: catalog.LocationFile, Target: path})
	if err != nil {
		t.Fatal(err)
	}
	return model.EncodeNumericID("Location", res.Location.ID)
}

// TestEveryMutationIsAllowedOrDeniedByRole is the authorization matrix: admin (alice, through the
// portside-admins group), owner (bob, whose team owns the location's component) and viewer
// (carol), each trying each mutation, on SQLite and PostgreSQL.
func TestEveryMutationIsAllowedOrDeniedByRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		roles := []signedIn{p.session("alice"), p.session("bob"), p.session("carol")}
		bobElsewhere := p.session("bob") // a second session of bob's, for revokeSession
		bobSessions, err := p.ids.Sessions(principal.With(context.Background(), &principal.Principal{UserID: userID(t, st, "bob")}))
		if err != nil || len(bobSessions) != 2 {
			t.Fatalf("bob's sessions: %v, %v", bobSessions, err)
		}
		_ = bobElsewhere
		type mutation struct {
			name    string
			query   func(t *testing.T) string
			allowed []string // who may
		}
		mutations := []mutation{
			{"registerLocation", func(t *testing.T) string {
				return `mutation { registerLocation(input: {type: EMBEDDED, target: "demo"}) { location { id } } }`
			}, []string{"alice"}},
			{"refreshLocation (of bob's team's component)", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { refreshLocation(id: %q) { location { id } } }`, p.fileLocation(t, "pay"))
			}, []string{"alice", "bob"}},
			{"unregisterLocation", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { unregisterLocation(id: %q) { removedEntities } }`, p.fileLocation(t, "gone"))
			}, []string{"alice"}},
			{"createApiToken for oneself", func(t *testing.T) string {
				return `mutation { createApiToken(input: {name: "mine", ttl: "1h"}) { secret } }`
			}, []string{"alice", "bob", "carol"}},
			{"createApiToken with admin rights", func(t *testing.T) string {
				return `mutation { createApiToken(input: {name: "root", admin: true}) { secret } }`
			}, []string{"alice"}},
			{"revokeApiToken of someone else", func(t *testing.T) string {
				_, tok, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "dave", Name: "daves"})
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf(`mutation { revokeApiToken(id: %q) { revokedAt } }`, model.EncodeNumericID("ApiToken", tok.ID))
			}, []string{"alice"}},
			{"revokeSession of bob's other browser", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { revokeSession(id: %q) { id } }`, model.EncodeNumericID("Session", bobSessions[0].ID))
			}, []string{"alice", "bob"}},
			{"syncDeployment of bob's team's component", func(t *testing.T) string {
				p.settle()
				return `mutation { syncDeployment(input: {component: "payments-api"}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"rollbackDeployment of bob's team's component", func(t *testing.T) string {
				p.settle()
				return `mutation { rollbackDeployment(input: {component: "payments-api", historyId: 1}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"terminateDeploymentOperation of bob's team's component", func(t *testing.T) string {
				return `mutation { terminateDeploymentOperation(input: {component: "payments-api"}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"refreshDeployment of bob's team's component", func(t *testing.T) string {
				return `mutation { refreshDeployment(input: {component: "payments-api", hard: true}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"promoteDeployment of bob's team's canary", func(t *testing.T) string {
				p.canaryAt(false)
				return `mutation { promoteDeployment(input: {component: "payments-api"}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"abortDeployment of bob's team's canary", func(t *testing.T) string {
				p.canaryAt(false)
				return `mutation { abortDeployment(input: {component: "payments-api"}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"retryDeployment of bob's team's canary", func(t *testing.T) string {
				p.canaryAt(true)
				return `mutation { retryDeployment(input: {component: "payments-api"}) { deployment { application } } }`
			}, []string{"alice", "bob"}},
			{"triggerPipeline of bob's team's component", func(t *testing.T) string {
				return `mutation { triggerPipeline(input: {component: "payments-api", pipeline: "ci"}) { run { id } } }`
			}, []string{"alice", "bob"}},
			{"cancelPipelineRun of bob's team's component", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { cancelPipelineRun(input: {id: %q}) { run { id } } }`, p.pipelineRun(t, false))
			}, []string{"alice", "bob"}},
			{"retryPipelineRun of bob's team's component", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { retryPipelineRun(input: {id: %q}) { run { id } } }`, p.pipelineRun(t, true))
			}, []string{"alice", "bob"}},
			{"abortCanaryFromAlert of bob's team's canary", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { abortCanaryFromAlert(input: {alert: %q}) { deployment { application } } }`, p.alertDuringCanary(t))
			}, []string{"alice", "bob"}},
			{"createRunbook for bob's team's component", func(t *testing.T) string {
				return `mutation { createRunbook(input: {title: "Restart", kind: MARKDOWN, markdown: "# Restart", links: ["payments-api"]}) { runbook { id } } }`
			}, []string{"alice", "bob"}},
			{"updateRunbook of bob's team's component", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { updateRunbook(input: {id: %q, baseVersion: 1, markdown: "# Restart, then check"}) { runbook { version } } }`,
					p.runbook(t, "payments-api"))
			}, []string{"alice", "bob"}},
			{"linkRunbook of bob's team's component to another of its components", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { linkRunbook(input: {id: %q, entity: "refund-worker"}) { runbook { linkedRefs } } }`, p.runbook(t, "payments-api"))
			}, []string{"alice", "bob"}},
			{"unlinkRunbook from bob's team's component", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { unlinkRunbook(input: {id: %q, entity: "ledger"}) { runbook { linkedRefs } } }`, p.runbook(t, "payments-api", "ledger"))
			}, []string{"alice", "bob"}},
			{"deleteRunbook of bob's team's component", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { deleteRunbook(input: {id: %q}) { id } }`, p.runbook(t, "payments-api"))
			}, []string{"alice", "bob"}},
		}
		mutations = append(mutations,
			mutation{"linkSlackUser (anyone signed in links their own Slack user)", func(t *testing.T) string {
				return fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { slackUser } }`, p.slackLinkToken(t, "T0ACME", newSlackUser()))
			}, []string{"alice", "bob", "carol"}},
			mutation{"unlinkSlackUser of bob's link", func(t *testing.T) string {
				u := newSlackUser()
				p.slackLinked(t, "bob", u)
				return fmt.Sprintf(`mutation { unlinkSlackUser(input: {teamId: "T0ACME", slackUser: %q}) { slackUser } }`, u)
			}, []string{"alice", "bob"}})
		for name, m := range p.taskMutations() {
			// A project's owning group (bob's team) and admins change its tasks.
			mutations = append(mutations, mutation{name + " of bob's team's project", m.query, []string{"alice", "bob"}})
		}
		for name, m := range p.deployMutations() {
			// A component's owners (bob's team) and admins request its deploys and decide requests
			// someone else made (here the operator).
			mutations = append(mutations, mutation{name + " of bob's team's component", m.query, []string{"alice", "bob"}})
		}
		for _, m := range mutations {
			for _, who := range roles {
				t.Run(m.name+"/"+who.name, func(t *testing.T) {
					res := p.as(who, m.query(t))
					want := slices.Contains(m.allowed, who.name)
					switch {
					case want && (res.Status != http.StatusOK || len(res.Errors) > 0):
						t.Errorf("%s was refused: %d %+v", who.name, res.Status, res.Errors)
					case !want && res.code() != "FORBIDDEN":
						t.Errorf("%s was not refused with FORBIDDEN: %d %+v", who.name, res.Status, res.Errors)
					}
				})
			}
		}
	})
}

// TestLocationsOfferRefreshToWhomTheServerAllowsIt: Location.viewerCanRefresh, which the portal
// uses to offer Refresh, says true exactly for those whose refreshLocation is accepted: admins,
// and the owners of an entity the location provides.
func TestLocationsOfferRefreshToWhomTheServerAllowsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		roles := []signedIn{p.session("alice"), p.session("bob"), p.session("carol")}
		for _, c := range []struct {
			owner   string
			allowed []string
		}{
			{"team-payments", []string{"alice", "bob"}}, // bob's team
			{"team-nobody", []string{"alice"}},
		} {
			id := p.fileLocationOwnedBy(t, "offered", c.owner)
			for _, who := range roles {
				want := slices.Contains(c.allowed, who.name)
				res := p.as(who, fmt.Sprintf(`{ location(id: %q) { viewerCanRefresh } }`, id))
				if len(res.Errors) > 0 {
					t.Fatalf("%s reading viewerCanRefresh: %+v", who.name, res.Errors)
				}
				loc, _ := res.Data["location"].(map[string]any)
				got, _ := loc["viewerCanRefresh"].(bool)
				refresh := p.as(who, fmt.Sprintf(`mutation { refreshLocation(id: %q) { location { id } } }`, id))
				accepted := refresh.Status == http.StatusOK && len(refresh.Errors) == 0
				if got != want || accepted != want {
					t.Errorf("location owned by %s, %s: viewerCanRefresh %v, refresh accepted %v (%+v); want both %v",
						c.owner, who.name, got, accepted, refresh.Errors, want)
				}
			}
		}
	})
}

func userID(t *testing.T, st *store.Store, name string) int64 {
	t.Helper()
	var id int64
	if err := st.Gorm().Raw("SELECT id FROM users WHERE username = ?", name).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("user %s: %v", name, err)
	}
	return id
}

// TestEveryMutationWritesExactlyOneAuditRecord finds the mutations by introspection, so a new one
// without an audit record (or without an entry here) fails this test.
func TestEveryMutationWritesExactlyOneAuditRecord(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	alice := p.session("alice")
	spare := p.session("bob")
	spareSessions, err := p.ids.Sessions(principal.With(context.Background(), &principal.Principal{UserID: userID(t, st, "bob")}))
	if err != nil || len(spareSessions) != 1 {
		t.Fatalf("bob's session: %v %v", spareSessions, err)
	}
	_ = spare
	samples := map[string]struct {
		action string
		query  func() string
	}{
		"registerLocation": {"catalog.location.register", func() string {
			return `mutation { registerLocation(input: {type: EMBEDDED, target: "demo"}) { location { id } } }`
		}},
		"refreshLocation": {"catalog.location.refresh", func() string {
			return fmt.Sprintf(`mutation { refreshLocation(id: %q) { location { id } } }`, p.fileLocation(t, "audited"))
		}},
		"unregisterLocation": {"catalog.location.unregister", func() string {
			return fmt.Sprintf(`mutation { unregisterLocation(id: %q) { removedEntities } }`, p.fileLocation(t, "removed"))
		}},
		"createApiToken": {"auth.token.create", func() string {
			return `mutation { createApiToken(input: {name: "audited"}) { secret } }`
		}},
		"revokeApiToken": {"auth.token.revoke", func() string {
			_, tok, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "alice", Name: "to-revoke"})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf(`mutation { revokeApiToken(id: %q) { id } }`, model.EncodeNumericID("ApiToken", tok.ID))
		}},
		"revokeSession": {"auth.session.revoke", func() string {
			return fmt.Sprintf(`mutation { revokeSession(id: %q) { id } }`, model.EncodeNumericID("Session", spareSessions[0].ID))
		}},
		"syncDeployment": {"rollouts.deployment.sync", func() string {
			p.settle()
			return `mutation { syncDeployment(input: {component: "payments-api", revision: "b2"}) { deployment { application } } }`
		}},
		"rollbackDeployment": {"rollouts.deployment.rollback", func() string {
			p.settle()
			return `mutation { rollbackDeployment(input: {component: "payments-api", historyId: 1}) { deployment { application } } }`
		}},
		"terminateDeploymentOperation": {"rollouts.deployment.terminate", func() string {
			return `mutation { terminateDeploymentOperation(input: {component: "payments-api"}) { deployment { application } } }`
		}},
		"refreshDeployment": {"rollouts.deployment.refresh", func() string {
			return `mutation { refreshDeployment(input: {component: "payments-api"}) { deployment { application } } }`
		}},
		"promoteDeployment": {"rollouts.deployment.promote", func() string {
			p.canaryAt(false)
			return `mutation { promoteDeployment(input: {component: "payments-api", full: true}) { deployment { application } } }`
		}},
		"abortDeployment": {"rollouts.deployment.abort", func() string {
			p.canaryAt(false)
			return `mutation { abortDeployment(input: {component: "payments-api"}) { deployment { application } } }`
		}},
		"retryDeployment": {"rollouts.deployment.retry", func() string {
			p.canaryAt(true)
			return `mutation { retryDeployment(input: {component: "payments-api"}) { deployment { application canary { aborted } } } }`
		}},
		"triggerPipeline": {"pipelines.run.trigger", func() string {
			return `mutation { triggerPipeline(input: {component: "payments-api", pipeline: "ci", idempotencyKey: "audited"}) { run { id } } }`
		}},
		"cancelPipelineRun": {"pipelines.run.cancel", func() string {
			return fmt.Sprintf(`mutation { cancelPipelineRun(input: {id: %q}) { run { id } } }`, p.pipelineRun(t, false))
		}},
		"retryPipelineRun": {"pipelines.run.retry", func() string {
			return fmt.Sprintf(`mutation { retryPipelineRun(input: {id: %q}) { run { id } } }`, p.pipelineRun(t, true))
		}},
		"abortCanaryFromAlert": {"rollouts.deployment.abort", func() string {
			return fmt.Sprintf(`mutation { abortCanaryFromAlert(input: {alert: %q}) { deployment { application } } }`, p.alertDuringCanary(t))
		}},
		"createRunbook": {"runbooks.runbook.create", func() string {
			return `mutation { createRunbook(input: {title: "Audited", kind: LINK, url: "https://wiki.example.com/x", links: ["payments-api"]}) { runbook { id } } }`
		}},
		"updateRunbook": {"runbooks.runbook.update", func() string {
			return fmt.Sprintf(`mutation { updateRunbook(input: {id: %q, baseVersion: 1, title: "Audited edit", message: "why"}) { runbook { version } } }`,
				p.runbook(t, "payments-api"))
		}},
		"linkRunbook": {"runbooks.runbook.link", func() string {
			return fmt.Sprintf(`mutation { linkRunbook(input: {id: %q, entity: "system:payments"}) { runbook { id } } }`, p.runbook(t, "payments-api"))
		}},
		"unlinkRunbook": {"runbooks.runbook.unlink", func() string {
			return fmt.Sprintf(`mutation { unlinkRunbook(input: {id: %q, entity: "payments-api"}) { runbook { id } } }`, p.runbook(t, "payments-api", "ledger"))
		}},
		"deleteRunbook": {"runbooks.runbook.delete", func() string {
			return fmt.Sprintf(`mutation { deleteRunbook(input: {id: %q}) { id } }`, p.runbook(t, "payments-api"))
		}},
	}
	samples["linkSlackUser"] = struct {
		action string
		query  func() string
	}{"auth.slack.link", func() string {
		return fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { slackUser } }`, p.slackLinkToken(t, "T0ACME", newSlackUser()))
	}}
	samples["unlinkSlackUser"] = struct {
		action string
		query  func() string
	}{"auth.slack.unlink", func() string {
		u := newSlackUser()
		p.slackLinked(t, "alice", u)
		return fmt.Sprintf(`mutation { unlinkSlackUser(input: {teamId: "T0ACME", slackUser: %q}) { slackUser } }`, u)
	}}
	for name, m := range p.taskMutations() {
		samples[name] = struct {
			action string
			query  func() string
		}{m.action, func() string { return m.query(t) }}
	}
	for name, m := range p.deployMutations() {
		samples[name] = struct {
			action string
			query  func() string
		}{m.action, func() string { return m.query(t) }}
	}
	intro := p.as(alice, `{ __schema { mutationType { fields { name } } } }`)
	fields := intro.Data["__schema"].(map[string]any)["mutationType"].(map[string]any)["fields"].([]any)
	if len(fields) < len(samples) {
		t.Fatalf("introspection found %d mutations, fewer than the %d known here", len(fields), len(samples))
	}
	for _, f := range fields {
		name := f.(map[string]any)["name"].(string)
		t.Run(name, func(t *testing.T) {
			sample, ok := samples[name]
			if !ok {
				t.Fatalf("mutation %s has no sample here: add one, and make sure it is audited", name)
			}
			query := sample.query() // may set up the scene through the services, which audits too
			before := countRecordsBy(t, st, "alice")
			res := p.as(alice, query)
			if res.Status != http.StatusOK || len(res.Errors) > 0 {
				t.Fatalf("%s: %d %+v", name, res.Status, res.Errors)
			}
			// Exactly one record is the caller's; what Portside does next on its own (an approved
			// deploy request applied) is audited as portside.
			if n := countRecordsBy(t, st, "alice") - before; n != 1 {
				t.Fatalf("%s wrote %d audit records by its caller, want exactly 1", name, n)
			}
			var last struct{ Action, Actor, Client, Outcome, RequestID string }
			st.Gorm().Raw("SELECT action, actor, client, outcome, request_id FROM audit_records WHERE actor = 'alice' ORDER BY id DESC LIMIT 1").Scan(&last)
			if last.Action != sample.action || last.Actor != "alice" || last.Client != "web" || last.Outcome != "ok" || last.RequestID == "" {
				t.Errorf("%s's record = %+v, want action %s by alice through the web, ok, with a request ID", name, last, sample.action)
			}
		})
	}
	// Denials are recorded too, and records cannot be changed afterwards.
	carol := p.session("carol")
	before := countRecords(t, st)
	if res := p.as(carol, `mutation { registerLocation(input: {type: EMBEDDED, target: "demo"}) { location { id } } }`); res.code() != "FORBIDDEN" {
		t.Fatalf("carol registering: %+v", res)
	}
	var outcome string
	st.Gorm().Raw("SELECT outcome FROM audit_records ORDER BY id DESC LIMIT 1").Scan(&outcome)
	if countRecords(t, st)-before != 1 || outcome != "denied" {
		t.Errorf("a denial writes one record with outcome denied; got %d records, outcome %q", countRecords(t, st)-before, outcome)
	}
	// A mutation that refuses its input before its service runs (an ID that is no ID of the kind
	// asked) is recorded as failed, with the code and the mutation's action, once.
	for _, c := range []struct{ query, action string }{
		{`mutation { deleteRunbook(input: {id: "VGFzazox"}) { id } }`, "runbooks.runbook.delete"}, // a Task's ID
		{`mutation { deleteTask(input: {id: "nope", version: 0}) { id } }`, "tasks.task.delete"},
		{`mutation { updateTask(input: {id: "bogus", version: 1, title: "x"}) { task { id } } }`, "tasks.task.update"},
		{`mutation { refreshLocation(id: "nope") { location { id } } }`, "catalog.location.refresh"},
		{`mutation { revokeApiToken(id: "nope") { id } }`, "auth.token.revoke"},
	} {
		before := countRecordsBy(t, st, "alice")
		if res := p.as(alice, c.query); res.code() != "INVALID" {
			t.Fatalf("%s: %+v, want INVALID", c.query, res)
		}
		var last struct{ Action, Outcome, Code string }
		st.Gorm().Raw("SELECT action, outcome, code FROM audit_records WHERE actor = 'alice' ORDER BY id DESC LIMIT 1").Scan(&last)
		if n := countRecordsBy(t, st, "alice") - before; n != 1 || last.Action != c.action || last.Outcome != "failed" || last.Code != "INVALID" {
			t.Errorf("%s: %d records, the last %+v; want one, %s failed INVALID", c.query, n, last, c.action)
		}
	}
	if err := st.Gorm().Exec("UPDATE audit_records SET actor = 'nobody'").Error; err == nil {
		t.Error("audit records could be updated")
	}
	if err := st.Gorm().Exec("DELETE FROM audit_records").Error; err == nil {
		t.Error("audit records could be deleted")
	}
}

func countRecordsBy(t *testing.T, st *store.Store, actor string) int {
	t.Helper()
	var n int
	if err := st.Gorm().Raw("SELECT count(*) FROM audit_records WHERE actor = ?", actor).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func countRecords(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.Gorm().Raw("SELECT count(*) FROM audit_records").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A read-only token is stopped at the mutation's gate, whatever its user may do, and the refusal
// is audited under the mutation's action.
func TestAReadOnlyTokenIsStoppedAtTheGateAndTheRefusalAudited(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	secret, _, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "root", Name: "reader", Admin: true, Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.gql(http.DefaultClient, bearer(secret), `{ me { username admin } }`, nil); res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("the token cannot even read: %+v", res)
	}
	before := countRecords(t, st)
	res := p.gql(http.DefaultClient, bearer(secret), `mutation { createApiToken(input: {name: "sneaky", admin: true}) { secret } }`, nil)
	if res.code() != "FORBIDDEN" || !strings.Contains(res.Errors[0].Message, `"write" scope`) {
		t.Fatalf("a read-only admin token creating a token: %+v, want FORBIDDEN for the write scope", res)
	}
	var last struct{ Action, Actor, Outcome string }
	st.Gorm().Raw("SELECT action, actor, outcome FROM audit_records ORDER BY id DESC LIMIT 1").Scan(&last)
	if countRecords(t, st)-before != 1 || last.Action != "auth.token.create" || last.Actor != "root" || last.Outcome != "denied" {
		t.Errorf("the refusal's record: %d new, last %+v", countRecords(t, st)-before, last)
	}
}

// Pages offer a component's deployment actions only to whom may take them: its owners (here
// through team-payments) and admins, with a credential that may change things.
func TestViewerCanOperateFollowsOwnershipAndScopes(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	const q = `{ entity(ref: "component:default/payments-api") { ... on Component { viewerCanOperate } } }`
	canOperate := func(res gqlResult) any {
		if len(res.Errors) > 0 {
			t.Fatalf("viewerCanOperate: %+v", res.Errors)
		}
		return res.Data["entity"].(map[string]any)["viewerCanOperate"]
	}
	for user, want := range map[string]bool{"bob": true, "alice": true, "carol": false} {
		if got := canOperate(p.as(p.session(user), q)); got != want {
			t.Errorf("%s: viewerCanOperate = %v, want %v", user, got, want)
		}
	}
	secret, _, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "root", Name: "reader", Admin: true, Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := canOperate(p.gql(http.DefaultClient, bearer(secret), q, nil)); got != false {
		t.Errorf("a read-only admin token: viewerCanOperate = %v, want false", got)
	}
}
