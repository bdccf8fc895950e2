package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/devidp"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	deploysvc "github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/bridge"
	"github.com/portside-dev/portside/deploys/gitops"
	"github.com/portside-dev/portside/deploys/pullrequests"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	ghp "github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	glp "github.com/portside-dev/portside/pipelines/gitlab"
	"github.com/portside-dev/portside/pipelines/gitlab/gitlabtest"
	"github.com/portside-dev/portside/pipelines/local"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/rollouts/connector/connectortest"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// portal is Portside with the demo catalog, behind the real development OpenID provider, on
// loopback sockets.
type portal struct {
	t testing.TB
	// resolver is the GraphQL API's; the Slack rig gives it its bot (SlackProfiles) before any request.
	resolver *graph.Resolver
	st       *store.Store
	dev      *devidp.Provider
	ts       *httptest.Server
	base     string
	ids      *auth.Service
	audit    *audit.Log
	cat      *catalog.Service
	clock    *testutil.Clock
	files    int // file locations made so far
	// argo is the Argo CD instance "prod", with the demo's payments-api application (team-payments,
	// bob's team, owns the component); deploys follows it.
	argo    *argocdtest.Server
	deploys *rollouts.Service
	// pipes runs the demo's local pipelines (payments-api's ci) for real.
	pipes *pipelines.Service
	// hook serves /webhooks/github, on the portal's clock.
	hook *server.GitHubWebhook
	// tasks keeps status-meeting projects and tasks.
	tasks *tasks.Service
	// books keeps runbooks (the link check is off: tests run it with CheckNow).
	books *runbooks.Service
	// requests keeps deploy requests, applied to real bare repositories (see deploys_test.go).
	requests *deploysvc.Service
	// codeHost is the GitHub where targets applied by pull request open theirs (acme/shop).
	codeHost *githubtest.Server
	// codeLab is the GitLab where targets with provider gitlab open their merge requests.
	codeLab *gitlabtest.Server
	// alerts keeps Alertmanager's alerts (payments-api's carry service=payments-api); amHook serves
	// /webhooks/alertmanager with the bearer token amToken or basic auth amUser:amPassword.
	alerts *alerts.Service
	amHook *server.AlertmanagerWebhook
	// ownTrackerSubs is how many subscriptions the portal itself holds on the rollouts tracker
	// (the deploy requests' follower): a test waiting for its own subscriptions counts past them.
	ownTrackerSubs int
}

// trackerSubscribed waits until n subscriptions beyond the portal's own are registered on the
// rollouts tracker: an event published before then could miss one.
func (p *portal) trackerSubscribed(t *testing.T, n int) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() bool { return p.deploys.Tracker().Subscribers() >= p.ownTrackerSubs+n },
		"%d subscriptions beyond the portal's own %d were never registered", n, p.ownTrackerSubs)
}

var people = []devidp.User{
	{Username: "alice", Password: "alice-pw", Email: "alice@acme.example", Name: "Alice", Groups: []string{"team-platform", "portside-admins"}},
	{Username: "bob", Password: "bob-pw", Email: "bob@acme.example", Name: "Bob", Groups: []string{"team-payments"}},
	{Username: "carol", Password: "carol-pw", Email: "carol@acme.example", Name: "Carol", Groups: []string{"product"}},
}

// newPortal starts the portal; tweaks adjust the identity service's options.
func newPortal(t testing.TB, st *store.Store, tweaks ...func(*auth.Options)) *portal {
	t.Helper()
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	dev, err := devidp.Start(ctx, devidp.Options{Addr: "127.0.0.1:0", Users: people, Clients: []devidp.Client{
		{ID: "portside", Secret: "s3cret", RedirectURIs: []string{base + "/auth/callback"}, PostLogoutRedirectURIs: []string{base + "/"}},
		{ID: "other-app", Secret: "other", RedirectURIs: []string{"http://127.0.0.1:1/cb"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dev.Close() })
	clk := testutil.NewClock(time.Now())
	log := audit.New(st, nil)
	cat := catalog.NewService(st, catalog.Options{Audit: log, CacheSize: 1000, Readers: map[catalog.LocationType]catalog.Reader{
		catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}},
		catalog.LocationFile:     &sources.Files{},
	}, APILocationTypes: []catalog.LocationType{catalog.LocationEmbedded, catalog.LocationFile}})
	if _, err := cat.RegisterLocation(principal.With(ctx, principal.System("test", principal.ClientCLI)),
		catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}); err != nil {
		t.Fatal(err)
	}
	opts := auth.Options{
		Issuer: dev.Issuer(), ClientID: "portside", ClientSecret: "s3cret", RedirectURL: base + "/auth/callback",
		PostLogoutURL: base + "/", Scopes: []string{"openid", "profile", "email", "groups"},
		AdminGroups: []string{"portside-admins"}, UserLink: []string{"name", "email"}, Directory: cat,
		Audit: log, Now: clk.Now,
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	ids := auth.NewService(st, opts)
	argo, deploys := followArgoCD(t, st, cat, log)
	public, _ := url.Parse(base)
	runner := local.New(local.Options{Enabled: true, WorkRoot: t.TempDir()})
	t.Cleanup(func() { _ = runner.Close() })
	pipes := pipelines.NewService(st, pipelines.Options{Catalog: cat, Audit: log, Providers: []pipelines.Provider{runner},
		Follower: pipelines.FollowerOptions{Interval: 20 * time.Millisecond}})
	pipes.Start(context.Background())
	t.Cleanup(pipes.Stop)
	taskSvc := tasks.NewService(st, tasks.Options{Catalog: cat, Audit: log, Figures: tasks.Delivery{DORA: deploys, Runs: pipes, Components: cat}})
	books := runbooks.NewService(st, runbooks.Options{Catalog: cat, Deployments: deploys, Audit: log})
	t.Cleanup(books.Stop)
	committer, err := gitops.New(gitops.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	codeHost := githubtest.Start(t)
	hostClient, err := ghp.New(ghp.Options{BaseURL: codeHost.URL, Token: "gh-token"})
	if err != nil {
		t.Fatal(err)
	}
	codeLab := gitlabtest.Start(t, "gl-token")
	labClient, err := glp.New(glp.Options{BaseURL: codeLab.URL, Token: "gl-token"})
	if err != nil {
		t.Fatal(err)
	}
	requests := deploysvc.NewService(st, deploysvc.Options{Catalog: cat, Applier: committer, PortalURL: base, Audit: log,
		Proposer: committer, PullRequests: pullrequests.Hosts{GitHub: hostClient, GitLab: labClient}, Lineage: committer, Applications: bridge.Applications{Rollouts: deploys}, Refresher: bridge.Refresher{Rollouts: deploys},
		Builds: bridge.PipelineBuilds{Pipelines: pipes}, SyncWindows: bridge.SyncWindows{Rollouts: deploys}, Rollouts: bridge.RolloutEvents{Rollouts: deploys}})
	requests.Start(context.Background())
	t.Cleanup(requests.Stop)
	// The deploy requests follow the rollouts from a goroutine: once it has subscribed, the
	// tracker's count of subscriptions is the portal's own, and tests count theirs past it.
	testutil.Eventually(t, 10*time.Second, func() bool { return deploys.Tracker().Subscribers() >= 1 },
		"the deploy requests never followed the rollouts")
	ownTrackerSubs := deploys.Tracker().Subscribers()
	alertSvc := alerts.NewService(st, alerts.Options{Catalog: cat, Canaries: deploys, Runbooks: books, Audit: log})
	amHook := &server.AlertmanagerWebhook{Token: []byte(amToken), Username: []byte(amUser), Password: []byte(amPassword),
		Alerts: alertSvc, Audit: log, Now: clk.Now}
	resolver := &graph.Resolver{Catalog: cat, Auth: ids, Audit: log, RolloutService: deploys, PipelineService: pipes,
		RunbookService: books, TaskService: taskSvc, DeployService: requests, AlertService: alertSvc}
	gql := graph.NewHandler(resolver,
		graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 20000, ResponseCacheSize: 1000}) // as serve has it
	hook := &server.GitHubWebhook{Secret: []byte(webhookSecret), Runs: pipes, PullRequests: requests, Audit: log, Now: clk.Now}
	srv := server.New(server.Options{GraphQL: gql, Ready: st.CheckReady, ShutdownTimeout: time.Second,
		Identity: &server.Identity{Auth: ids, Audit: log, PublicURL: public}, GitHubWebhook: hook,
		GitLabWebhook:       &server.GitLabWebhook{Secret: []byte(gitlabWebhookSecret), Runs: pipes, PullRequests: requests, Audit: log, Now: clk.Now},
		AlertmanagerWebhook: amHook})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &portal{t: t, st: st, dev: dev, ts: ts, base: base, ids: ids, audit: log, cat: cat, clock: clk, ownTrackerSubs: ownTrackerSubs,
		argo: argo, deploys: deploys, pipes: pipes, hook: hook, books: books, tasks: taskSvc, requests: requests, codeHost: codeHost, codeLab: codeLab,
		alerts: alertSvc, amHook: amHook, resolver: resolver}
}

// followArgoCD starts the Argo CD instance "prod" with payments-api deployed once (history ID 1)
// and a rollouts service that follows it, connected before it returns.
func followArgoCD(t testing.TB, st *store.Store, cat *catalog.Service, log *audit.Log) (*argocdtest.Server, *rollouts.Service) {
	t.Helper()
	argo := argocdtest.Start(t)
	argo.Put(argocdtest.App("payments-api", func(a *v1alpha1.Application) {
		start, end := metav1.NewTime(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)), metav1.NewTime(time.Date(2026, 11, 29, 9, 1, 0, 0, time.UTC))
		a.Status.Sync.Revision = "a1"
		a.Status.History = v1alpha1.RevisionHistories{{ID: 1, Revision: "a1", DeployStartedAt: &start, DeployedAt: end}}
		a.Status.Resources = []v1alpha1.ResourceStatus{{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout", Namespace: "payments", Name: "payments-api"}}
	}))
	argo.SetLive("argocd", "payments-api", "Rollout", "payments-api", canaryManifest(false))
	client, err := argocd.New(argocd.Options{Name: "prod", Addr: argo.Addr(), Token: argo.Token, PlainText: true})
	if err != nil {
		t.Fatal(err)
	}
	// Through the connector protocol, as portside serve reaches Argo CD.
	deploys := rollouts.NewService(st, connectortest.Relay(t, client), rollouts.Options{Catalog: cat, Audit: log,
		Tracker: rollouts.TrackerOptions{CanaryInterval: 10 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	deploys.Start(ctx)
	t.Cleanup(func() { cancel(); deploys.Stop() })
	testutil.Eventually(t, 10*time.Second, func() bool { return deploys.Instances()[0].Connected },
		func() string { return fmt.Sprintf("Argo CD never connected: %+v", deploys.Instances()[0]) })
	return argo, deploys
}

// canaryManifest is payments-api's Rollout paused at its first step (5%), or aborted there.
func canaryManifest(aborted bool) string {
	status := `"currentStepIndex": 1, "phase": "Paused", "pauseConditions": [{"reason": "CanaryPauseStep"}], "abort": false`
	if aborted {
		status = `"currentStepIndex": 0, "phase": "Degraded", "abort": true`
	}
	return `{"spec": {"strategy": {"canary": {"steps": [{"setWeight": 5}, {"pause": {}}, {"setWeight": 100}]}}},
		"status": {` + status + `, "stableRS": "h1", "currentPodHash": "h2", "replicas": 20, "updatedReplicas": 1}}`
}

// canaryAt puts payments-api's canary paused (or aborted) and waits until Portside has read it.
func (p *portal) canaryAt(aborted bool) {
	p.t.Helper()
	p.argo.SetLive("argocd", "payments-api", "Rollout", "payments-api", canaryManifest(aborted))
	key := rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-api"}
	testutil.Eventually(p.t, 10*time.Second, func() bool {
		d, _ := p.deploys.Tracker().Deployment(key)
		return d.Canary != nil && d.Canary.Aborted == aborted
	}, "Portside never saw payments-api's canary aborted=%v", aborted)
}

// settle ends payments-api's running operation, if any, and waits until Portside has seen it.
func (p *portal) settle() {
	p.t.Helper()
	if op := p.argo.App("argocd", "payments-api").Status.OperationState; op != nil && op.Phase == "Running" {
		p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "a1") })
	}
	key := rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-api"}
	var d rollouts.Deployment
	testutil.Eventually(p.t, 10*time.Second, func() bool {
		d, _ = p.deploys.Tracker().Deployment(key)
		return d.Operation == nil || d.Operation.Phase != rollouts.OperationRunning
	}, func() string { return fmt.Sprintf("Portside still sees payments-api running: %+v", d.Operation) })
}

// browser is a cookie-keeping HTTP client that records every URL it was sent to.
type browser struct {
	*http.Client
	visited []*url.URL
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.visited = append(b.visited, req.URL)
		return nil
	}}
	return b
}

var formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)

// signIn runs the whole code flow as a person would: Portside's /auth/login, the provider's login
// form, back through /auth/callback to returnTo. It returns the last response.
func (p *portal) signIn(b *browser, user, password, returnTo string) *http.Response {
	p.t.Helper()
	form := p.openLoginForm(b, returnTo)
	return p.submitLoginForm(b, form, user, password)
}

type loginForm struct {
	page   *url.URL
	action string
	fields url.Values
}

var hiddenInput = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
var attr = regexp.MustCompile(`(name|value)="([^"]*)"`)

func (p *portal) openLoginForm(b *browser, returnTo string) loginForm {
	p.t.Helper()
	resp, err := b.Get(p.base + "/auth/login?return_to=" + url.QueryEscape(returnTo))
	if err != nil {
		p.t.Fatal(err)
	}
	body := readAll(p.t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "password") {
		p.t.Fatalf("login form: status %d, body %.300s", resp.StatusCode, body)
	}
	f := loginForm{page: resp.Request.URL, fields: url.Values{}}
	if m := formAction.FindStringSubmatch(body); m != nil {
		f.action = html.UnescapeString(m[1])
	}
	for _, in := range hiddenInput.FindAllString(body, -1) {
		var name, value string
		for _, a := range attr.FindAllStringSubmatch(in, -1) {
			if a[1] == "name" {
				name = html.UnescapeString(a[2])
			} else {
				value = html.UnescapeString(a[2])
			}
		}
		f.fields.Set(name, value)
	}
	return f
}

func (p *portal) submitLoginForm(b *browser, f loginForm, user, password string) *http.Response {
	p.t.Helper()
	target := f.page
	if f.action != "" {
		u, err := f.page.Parse(f.action)
		if err != nil {
			p.t.Fatal(err)
		}
		target = u
	}
	vals := url.Values{}
	for k, v := range f.fields {
		vals[k] = v
	}
	vals.Set("username", user)
	vals.Set("password", password)
	resp, err := b.PostForm(target.String(), vals)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gqlResult is a GraphQL response.
type gqlResult struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

func (r gqlResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql posts a GraphQL operation with the given headers through client.
func (p *portal) gql(c *http.Client, header http.Header, query string, vars map[string]any) gqlResult {
	p.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	var out gqlResult
	raw := readAll(p.t, resp)
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		p.t.Fatalf("response %d is not JSON: %.300s", resp.StatusCode, raw)
	}
	out.Status = resp.StatusCode
	return out
}

// fromPortal are the headers Portside's own pages send with cookie-authenticated changes.
func (p *portal) fromPortal() http.Header {
	return http.Header{"Origin": {p.base}, server.CSRFHeader: {"1"}}
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

const meQuery = `{ me { username email displayName groups admin authenticatedBy user { ref } sessions { id current } } }`

func TestSignInWithTheCodeFlowStartsASessionLinkedToTheCatalog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		b := newBrowser()

		anonymous := p.gql(http.DefaultClient, nil, meQuery, nil)
		if anonymous.Status != http.StatusUnauthorized || anonymous.code() != "UNAUTHENTICATED" {
			t.Fatalf("anonymous /graphql: %d %s, want 401 UNAUTHENTICATED", anonymous.Status, anonymous.code())
		}

		resp := p.signIn(b, "bob", "bob-pw", "/graphiql?tab=1")
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/graphiql" || resp.Request.URL.RawQuery != "tab=1" {
			t.Fatalf("after sign-in the browser is at %s (%d), want /graphiql?tab=1", resp.Request.URL, resp.StatusCode)
		}
		var session *http.Cookie
		for _, u := range b.visited {
			if u.Path == "/auth/callback" && u.Query().Get("code") == "" {
				t.Fatalf("callback without a code: %s", u)
			}
		}
		u, _ := url.Parse(p.base)
		for _, c := range b.Jar.Cookies(u) {
			if c.Name == "portside_session" {
				session = c
			}
		}
		if session == nil || !strings.HasPrefix(session.Value, "pss_") {
			t.Fatalf("no session cookie after sign-in")
		}

		me := p.gql(b.Client, p.fromPortal(), meQuery, nil)
		if me.Status != http.StatusOK || len(me.Errors) > 0 {
			t.Fatalf("me: %d %+v", me.Status, me.Errors)
		}
		got := me.Data["me"].(map[string]any)
		// The ID token holds no email in the code flow: it came from userinfo.
		if got["username"] != "bob" || got["email"] != "bob@acme.example" || got["displayName"] != "Bob" || got["admin"] != false ||
			got["authenticatedBy"] != "SESSION" {
			t.Errorf("me = %v", got)
		}
		if g := got["groups"].([]any); len(g) != 1 || g[0] != "group:default/team-payments" {
			t.Errorf("groups = %v, want [group:default/team-payments]", g)
		}
		if user, _ := got["user"].(map[string]any); user == nil || user["ref"] != "user:default/bob" {
			t.Errorf("user = %v, want the catalog's user:default/bob", got["user"])
		}
		if s := got["sessions"].([]any); len(s) != 1 || s[0].(map[string]any)["current"] != true {
			t.Errorf("sessions = %v, want the one current session", s)
		}

		// The login is in the audit log, as bob, through the web.
		recs := p.auditRecords(t, "auth.login")
		if len(recs) != 1 || recs[0].Actor != "bob" || recs[0].Client != "web" || recs[0].Outcome != audit.OK {
			t.Errorf("login audit records = %+v", recs)
		}
	})
}

// auditRecords reads the records of one action as an admin would.
func (p *portal) auditRecords(t *testing.T, action string) []audit.Record {
	t.Helper()
	page, err := p.audit.Query(principal.With(context.Background(), principal.System("test", principal.ClientCLI)),
		audit.Filter{Action: action}, audit.MaxPage, "")
	if err != nil {
		t.Fatal(err)
	}
	return page.Records
}

func TestSessionCookieIsHttpOnlyLaxAndEndsAtLogout(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	b := newBrowser()
	// Look at the Set-Cookie header itself: the jar hides the attributes.
	var setCookie string
	b.Client.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil && req.URL.Path == "/auth/callback" {
			setCookie = strings.Join(resp.Header.Values("Set-Cookie"), "\n")
		}
		return resp, err
	})
	readAll(t, p.signIn(b, "carol", "carol-pw", "/"))
	for _, want := range []string{"portside_session=pss_", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, want)
		}
	}
	if strings.Contains(setCookie, "Secure") {
		t.Errorf("Secure cookie on plain http would never be sent back: %q", setCookie)
	}
	// The cookie lives as long as the session may (7 days after sign-in by default), not to the
	// first idle deadline (8 hours): the server extends a session in use, and ends an idle one.
	signedIn := time.Now()
	var line string
	for _, l := range strings.Split(setCookie, "\n") {
		if strings.HasPrefix(l, "portside_session=") {
			line = l
		}
	}
	if c, err := http.ParseSetCookie(line); err != nil {
		t.Errorf("Set-Cookie %q: %v", setCookie, err)
	} else if d := c.Expires.Sub(signedIn); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("the session cookie expires %s after sign-in, want the session's absolute limit (168h)", d.Round(time.Minute))
	}

	// A logout from another site is refused; from Portside's page it ends the session and
	// hands the browser to the provider's end_session_endpoint.
	req, _ := http.NewRequest(http.MethodPost, p.base+"/auth/logout", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site logout: %d, want 403", resp.StatusCode)
	}
	var logoutTarget *url.URL
	b.Client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if logoutTarget == nil {
			logoutTarget = req.URL
		}
		return http.ErrUseLastResponse
	}
	req, _ = http.NewRequest(http.MethodPost, p.base+"/auth/logout", nil)
	req.Header.Set("Origin", p.base)
	resp, err = b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther || logoutTarget == nil || !strings.HasPrefix(logoutTarget.String(), p.dev.Issuer()) ||
		logoutTarget.Query().Get("id_token_hint") == "" || logoutTarget.Query().Get("post_logout_redirect_uri") != p.base+"/" {
		t.Fatalf("logout: %d to %v, want 303 to the provider's end_session_endpoint with id_token_hint", resp.StatusCode, logoutTarget)
	}
	if me := p.gql(b.Client, p.fromPortal(), meQuery, nil); me.Status != http.StatusUnauthorized {
		t.Fatalf("after logout /graphql answers %d, want 401", me.Status)
	}
	if recs := p.auditRecords(t, "auth.logout"); len(recs) != 1 || recs[0].Actor != "carol" || recs[0].Outcome != audit.OK {
		t.Errorf("logout audit records = %+v", recs)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCookieAuthenticatedChangesNeedPortsidesOriginAndHeader(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	b := newBrowser()
	readAll(t, p.signIn(b, "bob", "bob-pw", "/"))
	mutation := `mutation { createApiToken(input: {name: "x"}) { token { id } } }`
	cases := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no origin, no header", nil, http.StatusForbidden},
		{"another site's origin", http.Header{"Origin": {"https://evil.example"}, server.CSRFHeader: {"1"}}, http.StatusForbidden},
		{"our origin without the header", http.Header{"Origin": {p.base}}, http.StatusForbidden},
		{"our origin with the header", p.fromPortal(), http.StatusOK},
	}
	for _, tc := range cases {
		res := p.gql(b.Client, tc.header, mutation, nil)
		if res.Status != tc.status {
			t.Errorf("%s: %d %+v, want %d", tc.name, res.Status, res.Errors, tc.status)
		}
	}
	// Bearer credentials are not cookies: no CSRF check applies to them.
	secret, _, err := p.ids.CreateToken(principal.With(context.Background(), principal.System("test", principal.ClientCLI)),
		auth.TokenSpec{Username: "bob", Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.gql(http.DefaultClient, bearer(secret), `{ me { username authenticatedBy } }`, nil); res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("bearer token: %d %+v", res.Status, res.Errors)
	}

	// bob's tokens, the one from the page and the one from the CLI, listed with their names.
	res := p.gql(http.DefaultClient, bearer(secret), `{ apiTokens { id name username revokedAt } }`, nil)
	if res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("apiTokens: %d %+v", res.Status, res.Errors)
	}
	var names []string
	for _, tok := range res.Data["apiTokens"].([]any) {
		m := tok.(map[string]any)
		if m["id"] == "0" || m["username"] != "bob" || m["revokedAt"] != nil {
			t.Errorf("listed token %v, want bob's, with an ID, not revoked", m)
		}
		names = append(names, m["name"].(string))
	}
	if strings.Join(names, ",") != "x,ci" {
		t.Errorf("apiTokens names = %v, want [x ci]", names)
	}
}

func TestCallbacksThatWereNotStartedHereOrAreReplayedAreRefused(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	b := newBrowser()
	form := p.openLoginForm(b, "/")
	loginCookie := cookie(b, p.base+"/auth/callback", "portside_login")
	if loginCookie == nil {
		t.Fatal("no login cookie after /auth/login")
	}
	readAll(t, p.submitLoginForm(b, form, "bob", "bob-pw"))
	var callback *url.URL
	for _, u := range b.visited {
		if u.Path == "/auth/callback" {
			callback = u
		}
	}
	if callback == nil {
		t.Fatal("the flow never came through /auth/callback")
	}
	var sessions int64
	st.Gorm().Table("sessions").Count(&sessions)
	// The same callback again, even with the login cookie put back, starts no second session.
	replay := newBrowser()
	u, _ := url.Parse(p.base + "/auth/callback")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "portside_login", Value: loginCookie.Value, Path: "/auth/callback"}})
	resp, err := replay.Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed callback: %d %q, want 401", resp.StatusCode, body)
	}
	var after int64
	st.Gorm().Table("sessions").Count(&after)
	if after != sessions || cookie(replay, p.base+"/", "portside_session") != nil {
		t.Errorf("a replayed callback started a session (%d sessions, then %d)", sessions, after)
	}
	// A login cookie altered by the browser does not open.
	forged := newBrowser()
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: "portside_login", Value: loginCookie.Value[:len(loginCookie.Value)-4] + "AAAA", Path: "/auth/callback"}})
	resp, err = forged.Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not started in this browser") {
		t.Fatalf("altered login cookie: %d %q, want 401", resp.StatusCode, body)
	}
	// A callback in a browser that did not start the login (login CSRF) is refused.
	resp, err = newBrowser().Get(callback.String())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not started in this browser") {
		t.Fatalf("foreign callback: %d %q, want 401", resp.StatusCode, body)
	}
	// Open redirects are refused before anything starts.
	resp, err = newBrowser().Get(p.base + "/auth/login?return_to=" + url.QueryEscape("//evil.example/x"))
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("open redirect: %d, want 400", resp.StatusCode)
	}
}

func TestAnIDTokenWithAnotherNonceIsRefused(t *testing.T) {
	st := storetest.SQLite(t)
	keys := seal.NewRandomKeyring()
	p := newPortal(t, st, func(o *auth.Options) { o.Keys = keys })
	b := newBrowser()
	form := p.openLoginForm(b, "/")
	// The provider will put the nonce of this flow in the ID token; make Portside expect another,
	// by resealing the flow the browser keeps (which only a holder of the keys can do).
	lc := cookie(b, p.base+"/auth/callback", "portside_login")
	plain, err := keys.Open(lc.Value, "portside login flow")
	if err != nil {
		t.Fatal(err)
	}
	var flow map[string]any
	if err := json.Unmarshal([]byte(plain), &flow); err != nil || flow["n"] == nil {
		t.Fatalf("the sealed flow %s holds no nonce (%v)", plain, err)
	}
	flow["n"] = "not-the-one-sent"
	altered, _ := json.Marshal(flow)
	u, _ := url.Parse(p.base + "/auth/callback")
	b.Jar.SetCookies(u, []*http.Cookie{{Name: "portside_login", Value: keys.Seal(string(altered), "portside login flow"), Path: "/auth/callback"}})
	resp := p.submitLoginForm(b, form, "bob", "bob-pw")
	if body := readAll(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "nonce") {
		t.Fatalf("wrong nonce: %d %q, want 401 naming the nonce", resp.StatusCode, body)
	}
	if recs := p.auditRecords(t, "auth.login"); len(recs) != 1 || recs[0].Outcome != audit.Denied {
		t.Errorf("a refused login is audited as denied: %+v", recs)
	}
}

func TestBearerJWTsAreVerified(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	claims := func(mod func(map[string]any)) map[string]any {
		now := p.clock.Now()
		c := map[string]any{"iss": p.dev.Issuer(), "sub": "user-bob", "aud": "portside", "iat": now.Unix(),
			"exp": now.Add(5 * time.Minute).Unix(), "preferred_username": "bob", "groups": []string{"team-payments"}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(c map[string]any) string {
		tok, err := p.dev.SignIDToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	accepted := func(name, tok string) {
		t.Helper()
		if res := p.gql(http.DefaultClient, bearer(tok), `{ me { username authenticatedBy } }`, nil); res.Status != http.StatusOK || len(res.Errors) > 0 {
			t.Errorf("%s: %d %+v, want accepted", name, res.Status, res.Errors)
		}
	}
	refused := func(name, tok string) {
		t.Helper()
		if res := p.gql(http.DefaultClient, bearer(tok), `{ me { username } }`, nil); res.Status != http.StatusUnauthorized || res.code() != "UNAUTHENTICATED" {
			t.Errorf("%s: %d %s, want 401 UNAUTHENTICATED", name, res.Status, res.code())
		}
	}
	good := sign(claims(nil))
	accepted("a token from the issuer for Portside", good)
	refused("expired", sign(claims(func(c map[string]any) { c["exp"] = p.clock.Now().Add(-time.Minute).Unix() })))
	refused("for another audience", sign(claims(func(c map[string]any) { c["aud"] = "other-app" })))
	refused("from another issuer", sign(claims(func(c map[string]any) { c["iss"] = "http://127.0.0.1:1" })))
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	refused("unsigned (alg none)", none)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := strings.Replace(string(payload), `"bob"`, `"eve"`, 1)
	refused("tampered", parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(tampered))+"."+parts[2])

	// Key rotation: the old key's tokens verify while the provider still publishes it...
	longLived := func(c map[string]any) { c["exp"] = p.clock.Now().Add(3 * time.Hour).Unix() }
	good = sign(claims(longLived))
	if err := p.dev.RotateKey(); err != nil {
		t.Fatal(err)
	}
	accepted("signed before rotation", good)
	accepted("signed after rotation", sign(claims(nil)))
	// ...and fail once it is dropped and Portside has refreshed the keys.
	p.dev.DropRetiredKeys()
	p.clock.Add(61 * time.Minute)
	old := good // still within its lifetime: only its key is gone
	good = sign(claims(nil))
	refused("signed by a dropped key", old)
	accepted("signed by the current key", good)
}

// Further issuers (a CI system, another service) may send bearer JWTs too. Their callers are
// named after the issuer, so they can never pass for a person who signs in here, and no group
// they claim makes them admins.
func TestBearerJWTsFromFurtherIssuersActAsNamespacedMachines(t *testing.T) {
	ci, err := devidp.Start(context.Background(), devidp.Options{Users: []devidp.User{{Username: "ci", Password: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ci.Close() })
	p := newPortal(t, storetest.SQLite(t), func(o *auth.Options) { o.JWTIssuers = []string{ci.Issuer()} })
	host := strings.TrimPrefix(ci.Issuer(), "http://")
	sign := func(claims map[string]any) string {
		now := p.clock.Now()
		c := map[string]any{"iss": ci.Issuer(), "aud": "portside", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		for k, v := range claims {
			c[k] = v
		}
		tok, err := ci.SignIDToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	me := func(tok string) map[string]any {
		t.Helper()
		res := p.gql(http.DefaultClient, bearer(tok), `{ me { username admin groups authenticatedBy } }`, nil)
		if res.Status != http.StatusOK || len(res.Errors) > 0 {
			t.Fatalf("%d %+v", res.Status, res.Errors)
		}
		return res.Data["me"].(map[string]any)
	}
	got := me(sign(map[string]any{"sub": "user-alice", "preferred_username": "alice", "groups": []string{"portside-admins"}}))
	if got["username"] != "alice@"+host || got["admin"] != false || got["authenticatedBy"] != "JWT" {
		t.Errorf("another issuer's alice = %v, want alice@%s, not an admin", got, host)
	}
	if got := me(sign(map[string]any{"sub": "repo:acme/payments:ref:refs/heads/main"})); got["username"] != "repo:acme/payments:ref:refs/heads/main@"+host {
		t.Errorf("a machine with only a subject = %v", got["username"])
	}
	res := p.gql(http.DefaultClient, bearer(sign(map[string]any{"sub": "x", "aud": "someone-else"})), `{ me { username } }`, nil)
	if res.Status != http.StatusUnauthorized {
		t.Errorf("a further issuer's token for another audience: %d, want 401", res.Status)
	}
	res = p.gql(http.DefaultClient, bearer(sign(map[string]any{"sub": "x"})),
		`mutation { registerLocation(input: {type: EMBEDDED, target: "demo"}) { location { id } } }`, nil)
	if res.code() != "FORBIDDEN" {
		t.Errorf("a machine registering a location: %+v, want FORBIDDEN", res)
	}
}

// The probe: restarting `serve --demo` on the same database moved the development provider to
// another free port, hence another issuer, and every sign-in got 409. The development login's
// people are the same people from run to run; a real provider's accounts still never merge.
func TestTheDevelopmentLoginSurvivesARestartOnAnotherPort(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		devLogin := func(o *auth.Options) { o.DevLogin = true }
		first := newPortal(t, st, devLogin)
		readAll(t, first.signIn(newBrowser(), "bob", "bob-pw", "/graphiql"))
		first.ts.Close()
		_ = first.dev.Close()

		again := newPortal(t, st, devLogin) // a new provider on a new port
		resp := again.signIn(newBrowser(), "bob", "bob-pw", "/graphiql")
		if body := readAll(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("bob signing in after the restart: %d %.200s", resp.StatusCode, body)
		}

		real := newPortal(t, st) // a real provider (not the development login) on a new address
		resp = real.signIn(newBrowser(), "bob", "bob-pw", "/graphiql")
		if body := readAll(t, resp); resp.StatusCode != http.StatusConflict {
			t.Fatalf("bob from another, real provider: %d %.200s, want 409", resp.StatusCode, body)
		}
	})
}

// cookie is the browser's cookie called name for target, or nil.
func cookie(b *browser, target, name string) *http.Cookie {
	u, _ := url.Parse(target)
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Starting a sign-in is anonymous: it writes nothing, however often it is asked for.
func TestStartingSignInsWritesNothing(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := 0; i < 50; i++ {
		resp, err := client.Get(p.base + "/auth/login?return_to=/")
		if err != nil {
			t.Fatal(err)
		}
		if readAll(t, resp); resp.StatusCode != http.StatusFound {
			t.Fatalf("GET /auth/login = %d, want 302", resp.StatusCode)
		}
	}
	var flows int64
	if err := st.Gorm().Table("login_flows").Count(&flows).Error; err != nil {
		t.Fatal(err)
	}
	if flows != 0 {
		t.Errorf("50 anonymous sign-in starts wrote %d rows, want 0", flows)
	}
	// A return_to too long for the login cookie is refused, naming it.
	resp, err := client.Get(p.base + "/auth/login?return_to=/" + strings.Repeat("a", 2000))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "return_to") {
		t.Errorf("a 2 kB return_to: %d %q, want 400 naming return_to", resp.StatusCode, body)
	}
	// A page that long sends the browser to sign in without it (and so back to the start page),
	// not to a sign-in that fails.
	resp, err = client.Get(p.base + "/graphiql?q=" + strings.Repeat("a", 2000))
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/auth/login" {
		t.Errorf("a signed-out 2 kB page: %d to %q, want 302 to /auth/login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(p.base + "/graphiql?tab=1")
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.Header.Get("Location") != "/auth/login?return_to=%2Fgraphiql%3Ftab%3D1" {
		t.Errorf("a signed-out page: to %q, want /auth/login?return_to=%%2Fgraphiql%%3Ftab%%3D1", resp.Header.Get("Location"))
	}
}
