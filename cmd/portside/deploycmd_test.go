package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	"github.com/portside-dev/portside/store/storetest"
)

// seedCatalog is payments-api for a deploys service the test runs itself, to make a request as a
// person other than the CLI's operator.
type seedCatalog struct{ annotation string }

func (c seedCatalog) ComponentAnnotations(context.Context, string, string) (string, map[string]string, error) {
	return "component:default/payments-api", map[string]string{deploys.AnnotationDeploy: c.annotation}, nil
}

func (seedCatalog) Owns(context.Context, *principal.Principal, string) (bool, error) {
	return true, nil
}

// squash collapses runs of spaces, so that checks do not depend on the columns' widths.
func squash(s string) string { return regexp.MustCompile(` +`).ReplaceAllString(s, " ") }

// gitRun runs git in dir and fails the test on an error.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=tester@acme.example",
		"GIT_COMMITTER_NAME=Tester", "GIT_COMMITTER_EMAIL=tester@acme.example", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// The deploy CLI drives the one state machine as the operator (client CLI): bad input is refused
// naming it (exit 1), the four-eyes rule holds for the operator's own requests, an approval applies
// the request (pushed, or proposed in a pull request on GitHub through the pipelines' client), a
// request that fails to apply exits 2, and status and list read what was done.
func TestDeployRequestsOnTheCLI(t *testing.T) {
	root := t.TempDir()
	bare := filepath.Join(root, "manifests.git")
	gitRun(t, root, "init", "--quiet", "--bare", "-b", "main", bare)
	work := filepath.Join(root, "seed")
	gitRun(t, root, "clone", "--quiet", bare, work)
	gitRun(t, work, "checkout", "--quiet", "-b", "main")
	for _, env := range []string{"production", "staging"} {
		mustWrite(t, filepath.Join(work, env, "kustomization.yaml"), "images:\n  - name: ghcr.io/acme/payments-api\n    newTag: \"1.4.1\"\n")
	}
	gitRun(t, work, "add", ".")
	gitRun(t, work, "commit", "--quiet", "-m", "seed")
	gitRun(t, work, "push", "--quiet", "origin", "main")
	annotation := fmt.Sprintf(`production:
  repo: %[1]s
  path: production/kustomization.yaml
  image: ghcr.io/acme/payments-api
staging:
  repo: %[1]s
  path: staging/kustomization.yaml
  image: ghcr.io/acme/payments-api
  apply: pull-request
  provider: github
  project: acme/manifests
qa:
  repo: %[1]s
  path: qa/missing.yaml
  image: ghcr.io/acme/payments-api
`, bare)
	dir := deployableCatalog(t, annotation)
	gh := githubtest.Start(t)
	db := filepath.Join(t.TempDir(), "portside.db")
	cli := func(args ...string) cliResult {
		return portside(t, []string{"PORTSIDE_GITHUB_API_URL=" + gh.URL, "PORTSIDE_GITHUB_TOKEN=gh-token", "PORTSIDE_PUBLIC_URL=https://portal.acme.example"},
			append([]string{"--database", db}, args...)...)
	}
	wantExit(t, cli("catalog", "import", dir), 0, "catalog import")
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

	// Bad input is refused, naming it.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "request", "payments-api", digest}, "--env: is required"},
		{[]string{"deploy", "request", "payments-api", "latest", "--env", "production"}, "version:"},
		{[]string{"deploy", "request", "payments-api", digest, "--env", "moon"}, `is not deployed to "moon"; its environments are production, qa, staging`},
		{[]string{"deploy", "request", "nope", digest, "--env", "production"}, "component"},
		{[]string{"deploy", "approve", "first"}, `NUMBER: "first" is not a deploy request number`},
		{[]string{"deploy", "status", "99"}, "deploy request 99"},
		{[]string{"deploy", "list", "--state", "done"}, `--state: "done" is not a state`},
		{[]string{"deploy", "list", "--first", "101"}, "--first: must be between 0 and 100"},
	} {
		r := cli(c.args...)
		wantExit(t, r, 1, strings.Join(c.args, " "))
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: the refusal lacks %q\n%s", strings.Join(c.args, " "), c.want, r)
		}
	}

	// The operator's own request: four eyes refuse its approval and rejection; it may be cancelled.
	r := cli("deploy", "request", "payments-api", digest, "--env", "production", "--reason", "fix the rounding bug")
	wantExit(t, r, 0, "request")
	if !strings.Contains(r.stdout, "deploy request 1: component:default/payments-api "+digest+" to production: REQUESTED") ||
		!strings.Contains(squash(r.stdout), "link: https://portal.acme.example/deploys/1") {
		t.Errorf("request says\n%s", r)
	}
	wantExit(t, cli("deploy", "request", "payments-api", digest, "--env", "production"), 0, "the same request again")
	for _, verb := range []string{"approve", "reject"} {
		r = cli("deploy", verb, "1")
		wantExit(t, r, 1, verb+" of one's own request")
		if !strings.Contains(r.stderr, "may not decide it") || !strings.Contains(r.stderr, "four eyes") {
			t.Errorf("%s of one's own request says\n%s", verb, r)
		}
	}
	r = cli("deploy", "cancel", "1", "--note", "wrong digest")
	wantExit(t, r, 0, "cancel")
	if !strings.Contains(r.stdout, "CANCELLED") || !strings.Contains(r.stdout, "wrong digest") {
		t.Errorf("cancel says\n%s", r)
	}
	r = cli("deploy", "cancel", "1")
	wantExit(t, r, 1, "cancel again")
	if !strings.Contains(r.stderr, "deploy request 1 is CANCELLED") {
		t.Errorf("cancel again says\n%s", r)
	}

	// Bob's request, made in the portal, approved on the CLI: pushed to the manifest repository.
	st := storetest.Open(t, db, false)
	bob := principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindSession, Client: principal.ClientWeb})
	q, err := deploys.NewService(st, deploys.Options{Catalog: seedCatalog{annotation: annotation}}).
		Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest, Reason: "for real"})
	if err != nil || q.ID != 2 || q.State != deploys.Requested {
		t.Fatalf("bob's request: %+v %v", q, err)
	}
	_ = st.Close()
	r = cli("deploy", "approve", "2", "--note", "go")
	wantExit(t, r, 0, "approve bob's request")
	head := gitRun(t, bare, "rev-parse", "main")
	if !strings.Contains(r.stdout, "to production: ROLLING_OUT") || !strings.Contains(squash(r.stdout), "commit: "+head) {
		t.Errorf("approve says\n%s", r)
	}
	if got := gitRun(t, bare, "show", "main:production/kustomization.yaml"); !strings.Contains(got, "digest: "+digest) {
		t.Errorf("production after the approval:\n%s", got)
	}

	// Staging needs no approval and is applied by pull request on GitHub.
	r = cli("deploy", "request", "payments-api", digest, "--env", "staging")
	wantExit(t, r, 0, "request to staging")
	if !strings.Contains(r.stdout, "to staging: APPLYING") || !strings.Contains(squash(r.stdout), "pull request: https://github.example/acme/manifests/pull/1") ||
		!strings.Contains(squash(r.stdout), "waiting: waiting for the pull request to merge") {
		t.Errorf("request to staging says\n%s", r)
	}
	if pulls := gh.Pulls("acme/manifests"); len(pulls) != 1 || pulls[0].Head.Ref != "portside/deploy-3" || !strings.Contains(pulls[0].Body, "https://portal.acme.example/deploys/3") {
		t.Errorf("pull requests on GitHub: %+v", pulls)
	}

	// A request that cannot be applied exits 2.
	r = cli("deploy", "request", "payments-api", digest, "--env", "qa")
	wantExit(t, r, 2, "request to qa")
	if !strings.Contains(r.stdout, "to qa: FAILED") || !strings.Contains(r.stderr, "qa/missing.yaml") {
		t.Errorf("request to qa says\n%s", r)
	}

	r = cli("deploy", "status", "2")
	wantExit(t, r, 0, "status 2")
	for _, want := range []string{"ROLLING_OUT", "history:", "bob      PORTAL   - -> REQUESTED  for real", "CLI      REQUESTED -> APPROVED  go",
		"portside SYSTEM   APPLYING -> ROLLING_OUT  commit "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status 2 lacks %q\n%s", want, r)
		}
	}
	r = cli("deploy", "status", "payments-api")
	wantExit(t, r, 0, "status of the component")
	if n := strings.Count(r.stdout, "component:default/payments-api"); n != 4 {
		t.Errorf("status of the component lists %d requests, want 4\n%s", n, r)
	}
	r = cli("deploy", "list", "--state", "cancelled")
	wantExit(t, r, 0, "list cancelled")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "1 ") {
		t.Errorf("list --state cancelled:\n%s", r)
	}
	r = cli("deploy", "list", "--state", "rolling_out,applying", "--first", "1")
	wantExit(t, r, 0, "list open")
	if !strings.Contains(r.stdout, "\n3 ") || !strings.Contains(r.stdout, "(1 of 2; --first shows more)") {
		t.Errorf("list --state rolling_out,applying --first 1:\n%s", r)
	}
}

// A reason is the requester's text: the CLI prints it quoted, every line after "> " and indented
// under the first, as Slack quotes it, so that no line of it reads as the CLI's own output (a
// second line "deploy request 9: ... APPROVED"); control characters a terminal would act on are
// shown escaped. The request's history (whose first note is the reason) quotes it the same way.
func TestACLIPrintsAMultiLineReasonQuoted(t *testing.T) {
	dir := deployableCatalog(t, `production:
  repo: /nonexistent/manifests.git
  path: production/kustomization.yaml
  image: ghcr.io/acme/payments-api
`)
	db := filepath.Join(t.TempDir(), "portside.db")
	cli := func(args ...string) cliResult {
		return portside(t, nil, append([]string{"--database", db}, args...)...)
	}
	wantExit(t, cli("catalog", "import", dir), 0, "catalog import")
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	reason := "fix the rounding bug\ndeploy request 9: component:default/payments-api " + digest + " to production: APPROVED\r\n  approver:     alice\x1b[2K\u2028done"
	r := cli("deploy", "request", "payments-api", digest, "--env", "production", "--reason", reason)
	wantExit(t, r, 0, "request")
	want := "  reason:       > fix the rounding bug\n" +
		"                > deploy request 9: component:default/payments-api " + digest + " to production: APPROVED\n" +
		"                >   approver:     alice\\x1b[2K\n" +
		"                > done\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("the request prints its reason\n%s\nwant it quoted:\n%s", r.stdout, want)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "deploy request 9") || strings.HasPrefix(strings.TrimSpace(l), "approver:") || strings.Contains(l, "\x1b") {
			t.Errorf("a line of the reason reads as the CLI's own: %q", l)
		}
	}
	r = cli("deploy", "status", "1")
	wantExit(t, r, 0, "status 1")
	history := "- -> REQUESTED  > fix the rounding bug\n      > deploy request 9: component:default/payments-api " + digest + " to production: APPROVED\n" +
		"      >   approver:     alice\\x1b[2K\n      > done\n"
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, history) {
		t.Errorf("status prints\n%s\nwant the reason and the history's note quoted:\n%s%s", r.stdout, want, history)
	}
}

// A request that failed to apply exits 2 with its outcome on stderr: the outcome is a provider's
// or git's message, not the CLI's, so it is quoted there, its control characters, line breaks and
// bidirectional controls escaped, and no part of it reads as a line of the CLI's own or moves
// the terminal's cursor.
func TestAFailedRequestsOutcomeIsQuotedInItsExitError(t *testing.T) {
	q := deploys.Request{ID: 7, Component: "component:default/payments-api", Version: "1.4.2", Environment: "qa", State: deploys.Failed,
		Outcome: "push rejected\x1b[2K\ndeploy request 7: component:default/payments-api 1.4.2 to qa: SUCCEEDED \u202egnp.exe"}
	err := report(io.Discard, &deploys.Service{}, q)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("report of a FAILED request: %v, want exit 2", err)
	}
	want := `deploy request 7 failed: "push rejected\x1b[2K\ndeploy request 7: component:default/payments-api 1.4.2 to qa: SUCCEEDED \u202egnp.exe"`
	if got := err.Error(); got != want {
		t.Errorf("the exit error says\n%s\nwant\n%s", got, want)
	}
}

// What the CLI prints of text it did not write shows bidirectional controls escaped, as it does
// control characters: U+202E and its kin make a line read as other text ("Trojan Source").
func TestTheCLIShowsBidirectionalControlsEscaped(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ok\u202egnp.exe", `ok\u202egnp.exe`},
		{"a\u202ab\u202bc\u202cd\u202de", `a\u202ab\u202bc\u202cd\u202de`},
		{"\u2066x\u2067y\u2068z\u2069", `\u2066x\u2067y\u2068z\u2069`},
		{"l\u200er\u200fa\u061c", `l\u200er\u200fa\u061c`},
		{"tab\tstays, and é, 日本, emoji 🚀 too", "tab\tstays, and é, 日本, emoji 🚀 too"},
	} {
		if got := escapeControls(c.in); got != c.want {
			t.Errorf("escapeControls(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var out strings.Builder
	printRequest(&out, &deploys.Service{}, deploys.Request{ID: 7, Component: "component:default/payments-api", Version: "1.4.2",
		Environment: "qa", State: deploys.Failed, Reason: "hotfix\u2067 for\u2069 two\nlines", Outcome: "rejected \u202eexe.txt"})
	for _, want := range []string{`reason:       > hotfix\u2067 for\u2069 two` + "\n" + `                > lines` + "\n", `outcome:      rejected \u202eexe.txt` + "\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the request prints\n%s\nwant\n%s", out.String(), want)
		}
	}
	if strings.ContainsFunc(out.String(), func(r rune) bool { return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 }) {
		t.Errorf("the request prints a bidirectional control: %q", out.String())
	}
}

// deployableCatalog writes a catalog of team-a and its component payments-api, whose
// portside.dev/deploy annotation is annotation (YAML), and returns its directory.
func deployableCatalog(t *testing.T, annotation string) string {
	t.Helper()
	indented := "      " + strings.ReplaceAll(strings.TrimSpace(annotation), "\n", "\n      ")
	return catalogDir(t, map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  annotations:
    portside.dev/deploy: |
` + indented + `
spec:
  type: service
  lifecycle: production
  owner: team-a
`})
}
