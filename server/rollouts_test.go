package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/graph/gqlws"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// subscribe opens a graphql-transport-ws subscription as a signed-in browser would (its cookie,
// an Origin) and returns it once the server has acknowledged it.
func (p *portal) subscribe(t *testing.T, s signedIn, origin, query string) (*gqlws.Subscription, *http.Response, error) {
	t.Helper()
	u, _ := url.Parse(p.base)
	h := http.Header{"Origin": {origin}}
	for _, c := range s.b.Jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, resp, err := gqlws.Subscribe(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/graphql", h, query)
	if err == nil {
		t.Cleanup(func() { _ = sub.Close() })
	}
	return sub, resp, err
}

// nextData reads the subscription's next event.
func nextData(t *testing.T, sub *gqlws.Subscription) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("reading the subscription: %v", err)
	}
	return data
}

func TestAComponentsDeploymentsRolloutsAndTheirChangesOverGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob := p.session("bob")
		conn, _, err := p.subscribe(t, bob, p.base,
			`subscription { rolloutChanged(component: "payments-api") { revision result requestedBy initiatedBy } }`)
		if err != nil {
			t.Fatal(err)
		}
		deploys, _, err := p.subscribe(t, bob, p.base,
			`subscription { deploymentChanged(component: "payments-api") { application syncStatus health operation { phase revision requestedBy } } }`)
		if err != nil {
			t.Fatal(err)
		}

		// The server registers a subscription after the subscribe message arrives: wait for both.
		p.trackerSubscribed(t, 2)
		res := p.as(bob, `mutation { syncDeployment(input: {component: "payments-api", revision: "b2"}) { deployment { application operation { phase revision requestedBy } } } }`)
		if len(res.Errors) > 0 {
			t.Fatalf("bob's sync: %+v", res.Errors)
		}
		op := res.Data["syncDeployment"].(map[string]any)["deployment"].(map[string]any)["operation"].(map[string]any)
		if op["phase"] != "RUNNING" || op["revision"] != "b2" || op["requestedBy"] != "bob" {
			t.Errorf("the sync's answer shows operation %v, want RUNNING to b2 requested by bob", op)
		}
		got := nextData(t, conn)["rolloutChanged"].(map[string]any)
		for got["revision"] == "a1" {
			// a1, from Argo CD's history, may still be learning its commit (unknown here).
			got = nextData(t, conn)["rolloutChanged"].(map[string]any)
		}
		if got["revision"] != "b2" || got["result"] != "RUNNING" || got["requestedBy"] != "bob" || got["initiatedBy"] != argocdtest.Account {
			t.Errorf("rolloutChanged = %v, want b2 RUNNING requested by bob, initiated by Portside's account", got)
		}
		dep := nextData(t, deploys)["deploymentChanged"].(map[string]any)
		for dep["operation"] == nil {
			// The canary, read once after start, may be announced before the sync.
			dep = nextData(t, deploys)["deploymentChanged"].(map[string]any)
		}
		if dep["application"] != "payments-api" || dep["operation"].(map[string]any)["phase"] != "RUNNING" {
			t.Errorf("deploymentChanged = %v, want payments-api with its running operation", dep)
		}

		p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "b2", "registry.example.com/payments-api:2.0") })
		for {
			// The commit lookup (unknown revision here) may update the running rollout first.
			got = nextData(t, conn)["rolloutChanged"].(map[string]any)
			if got["result"] != "RUNNING" {
				break
			}
		}
		if got["revision"] != "b2" || got["result"] != "SUCCEEDED" {
			t.Errorf("rolloutChanged = %v, want b2 SUCCEEDED", got)
		}

		page := p.as(bob, `{ entity(ref: "component:payments-api") { ... on Component {
			deployments { instance application environment syncStatus health revision images stale conditions { type message }
				syncWindows { canSync active { kind } assigned { kind schedule duration manualSync } } }
			rollouts(first: 5) { totalCount nodes { revision result historyId requestedBy } } } } }`)
		if len(page.Errors) > 0 {
			t.Fatalf("component page: %+v", page.Errors)
		}
		c := page.Data["entity"].(map[string]any)
		d := c["deployments"].([]any)[0].(map[string]any)
		sw := d["syncWindows"].(map[string]any)
		if sw["canSync"] != true || len(sw["active"].([]any)) != 0 || len(sw["assigned"].([]any)) != 1 {
			t.Errorf("syncWindows = %v, want syncing allowed under one assigned deny window", sw)
		}
		if d["instance"] != "prod" || d["syncStatus"] != "SYNCED" || len(d["conditions"].([]any)) != 0 || d["health"] != "HEALTHY" || d["revision"] != "b2" || d["stale"] != false {
			t.Errorf("deployment = %v", d)
		}
		const november = `since: "2026-11-01T00:00:00Z", until: "2026-12-01T00:00:00Z"`
		dora := p.as(bob, `{ dora(`+november+`) { deployments }
			group: entity(ref: "group:team-payments") { ... on Group { dora(`+november+`) { deployments changes failedChanges } } }
			system: entity(ref: "system:payments") { ... on System { dora(`+november+`) { deployments deploymentsPerDay } } }
			component: entity(ref: "component:payments-api") { ... on Component { dora(`+november+`) { deployments leadTimeSamples } } } }`)
		if len(dora.Errors) > 0 {
			t.Fatalf("DORA: %+v", dora.Errors)
		}
		// a1 (Nov 29) and b2 (Nov 30, the scripted Argo CD's clock).
		for _, path := range []string{"group", "system", "component"} {
			if got := dora.Data[path].(map[string]any)["dora"].(map[string]any)["deployments"]; got != float64(2) {
				t.Errorf("%s DORA deployments = %v, want 2", path, got)
			}
		}
		if got := dora.Data["dora"].(map[string]any)["deployments"]; got != float64(2) {
			t.Errorf("catalog DORA deployments = %v, want 2", got)
		}
		rs := c["rollouts"].(map[string]any)
		nodes := rs["nodes"].([]any)
		if rs["totalCount"] != float64(2) || nodes[0].(map[string]any)["revision"] != "b2" || nodes[0].(map[string]any)["historyId"] != float64(2) ||
			nodes[1].(map[string]any)["revision"] != "a1" {
			t.Errorf("rollouts = %v, want b2 (history 2) then a1", rs)
		}
	})
}

func TestADeploymentSubscriptionWithCurrentStartsFromTheDeploymentsAsTheyAre(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob := p.session("bob")
		revision := func() string {
			res := p.as(bob, `{ entity(ref: "component:payments-api") { ... on Component { deployments { revision } } } }`)
			deps, _ := res.Data["entity"].(map[string]any)["deployments"].([]any)
			if len(deps) != 1 {
				return ""
			}
			return deps[0].(map[string]any)["revision"].(string)
		}
		deploy := func(rev string) {
			t.Helper()
			res := p.as(bob, `mutation { syncDeployment(input: {component: "payments-api", revision: "`+rev+`"}) { deployment { application } } }`)
			if len(res.Errors) > 0 {
				t.Fatalf("bob's sync to %s: %+v", rev, res.Errors)
			}
			p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) { argocdtest.Succeed(a, rev, "registry.example.com/payments-api:"+rev) })
		}
		// Argo CD deploys b2 before the client subscribes: a change it never sees as an event.
		deploy("b2")
		testutil.Eventually(t, 10*time.Second, func() bool { return revision() == "b2" }, "the deployment never showed b2")

		sub, _, err := p.subscribe(t, bob, p.base,
			`subscription { deploymentChanged(component: "payments-api", current: true) { application revision removed } }`)
		if err != nil {
			t.Fatal(err)
		}
		first := nextData(t, sub)["deploymentChanged"].(map[string]any)
		if first["application"] != "payments-api" || first["revision"] != "b2" || first["removed"] != false {
			t.Errorf("the first event = %v, want payments-api as it is: b2, not removed", first)
		}
		// Then the changes, as without current.
		deploy("c3")
		for {
			ev := nextData(t, sub)["deploymentChanged"].(map[string]any)
			if ev["revision"] == "c3" {
				break
			}
			if ev["revision"] != "b2" {
				t.Fatalf("an event after the first = %v, want b2 (a canary read) or c3", ev)
			}
		}
	})
}

func TestASubscriptionFromAnotherSiteIsRefused(t *testing.T) {
	p := newPortal(t, storetest.SQLite(t))
	bob := p.session("bob")
	_, resp, err := p.subscribe(t, bob, "https://evil.example.com",
		`subscription { rolloutChanged(component: "payments-api") { revision } }`)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site WebSocket with bob's cookie: %v, %v; want 403", resp, err)
	}
}

// The component page (a component with its deployments and last rollouts) is answered from the
// response cache while nothing about its applications changes, and afresh as soon as anything
// does: a new state from Argo CD, a new rollout, the instance going away and coming back.
func TestTheComponentPageIsCachedUntilItsApplicationsChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		secret, _, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "page", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]any{benchcat.ComponentPage.Var: "component:default/payments-api"}
		type page struct {
			Entity struct {
				Deployments []struct {
					Revision string
					Stale    bool
				}
				Rollouts struct{ TotalCount int }
			}
		}
		ask := func() page {
			t.Helper()
			res := p.gql(http.DefaultClient, bearer(secret), benchcat.ComponentPage.Query, vars)
			if len(res.Errors) > 0 {
				t.Fatalf("component page: %+v", res.Errors)
			}
			raw, _ := json.Marshal(res.Data)
			var out page
			if err := json.Unmarshal(raw, &out); err != nil || len(out.Entity.Deployments) != 1 {
				t.Fatalf("component page: %s", raw)
			}
			return out
		}
		counter := storetest.CountStatements(st.Gorm())
		// cached checks that a repeated page runs no statement, once the tracker's own work after
		// a change (a commit asked for, a canary read) has settled: that work runs statements too.
		cached := func(why string) {
			t.Helper()
			var n int64
			if testutil.Await(5*time.Second, func() bool {
				ask()
				counter.Reset()
				ask()
				n = counter.Reset()
				return n == 0
			}) {
				return
			}
			t.Errorf("%s: the repeated component page still ran %d statements; want it from the response cache", why, n)
		}
		until := func(what string, cond func(page) bool) {
			t.Helper()
			testutil.Eventually(t, 10*time.Second, func() bool { return cond(ask()) },
				func() string { return fmt.Sprintf("the component page never showed %s: %+v", what, ask()) })
		}
		first := ask()
		if first.Entity.Deployments[0].Revision != "a1" || first.Entity.Rollouts.TotalCount != 1 {
			t.Fatalf("first page: %+v, want revision a1 and one rollout", first)
		}
		cached("at rest")

		p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) { a.Status.Sync.Revision = "a2" })
		until("the new revision", func(pg page) bool { return pg.Entity.Deployments[0].Revision == "a2" })
		cached("after a new state")

		bob := p.session("bob")
		if r := p.as(bob, `mutation { syncDeployment(input: {component: "payments-api", revision: "b2"}) { deployment { application } } }`); len(r.Errors) > 0 {
			t.Fatalf("sync: %+v", r.Errors)
		}
		until("the new rollout", func(pg page) bool { return pg.Entity.Rollouts.TotalCount == 2 })
		cached("after a new rollout")

		// What no stamp covers is asked afresh every time: DORA windows move with the clock, and
		// rollouts across the catalog are not one component's.
		for _, q := range []string{
			`{ entity(ref: "component:payments-api") { ... on Component { dora { deploymentsPerDay } } } }`,
			`{ rollouts(first: 5) { totalCount } }`,
		} {
			for i := 0; i < 2; i++ {
				counter.Reset()
				if r := p.gql(http.DefaultClient, bearer(secret), q, nil); len(r.Errors) > 0 {
					t.Fatalf("%s: %+v", q, r.Errors)
				}
				if n := counter.Reset(); n == 0 {
					t.Errorf("%s (asked %d times) ran no statement: it must not come from the response cache", q, i+1)
				}
			}
		}

		p.argo.Stop()
		until("the deployment stale", func(pg page) bool { return pg.Entity.Deployments[0].Stale })
		cached("while Argo CD is away")
		p.argo.Restart()
		until("the deployment fresh again", func(pg page) bool { return !pg.Entity.Deployments[0].Stale })
	})
}
