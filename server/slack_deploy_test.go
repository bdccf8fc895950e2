package server_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/slack"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

func TestASlackDeployCommandAsksForADeployAsThePersonWhoTypedIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponent(t)
		text := fmt.Sprintf("%s %s to production fixes the refund rounding", name, deployDigest)
		code, ack := r.slash(t, "/deploy", "U0BOB", text, "D1", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, "Asking for "+name) {
			t.Fatalf("ack = %d %+v", code, ack)
		}
		posted := r.reply(t, "D1", 1)
		if posted.ResponseType != "in_channel" || !strings.Contains(posted.Text, "<@U0BOB> asked for component:default/"+name+" "+deployDigest+" in production") ||
			!strings.Contains(posted.Text, "is REQUESTED") || !strings.Contains(posted.Text, "https://portside.example/deploys/") {
			t.Fatalf("posted %+v", posted)
		}
		list := func() []deploys.Request {
			t.Helper()
			page, err := r.requests.List(operator(), deploys.Filter{Component: name}, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			return page.Requests
		}
		got := list()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		q := got[0]
		if q.Requester != "bob" || q.Client != deploys.ClientSlack || q.Reason != "fixes the refund rounding" || q.State != deploys.Requested {
			t.Errorf("request = %+v", q)
		}
		// Slack's retry of the same command asks for nothing new: it answers with the open request.
		code, _ = r.slash(t, "/deploy", "U0BOB", text, "D1", func(req *http.Request) { req.Header.Set(slack.RetryHeader, "1") })
		if again := r.reply(t, "D1", 2); code != http.StatusOK || !strings.Contains(again.Text, "request "+strconv.FormatInt(q.ID, 10)+" ") {
			t.Errorf("the retry answered %d %+v, want request %d again", code, again, q.ID)
		}
		if n := len(list()); n != 1 {
			t.Errorf("%d requests after Slack's retry, want 1", n)
		}
		// Audited as Bob, through Slack.
		var found bool
		for _, rec := range r.auditRecords(t, "deploys.request.create") {
			if rec.Actor == "bob" && rec.Client == "slack" && rec.ActorKind == "chat" && rec.Outcome == "ok" {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit record of bob's request through slack: %+v", r.auditRecords(t, "deploys.request.create"))
		}
		// Carol does not own the component: refused with the deploys service's reason, nothing asked.
		r.slash(t, "/deploy", "U0CAROL", fmt.Sprintf("%s %s to staging", name, deployDigest), "D2", nil)
		if refused := r.reply(t, "D2", 1); refused.ResponseType != "ephemeral" || !strings.Contains(refused.Text, "Portside did not ask for "+name) {
			t.Errorf("carol's command answered %+v", refused)
		}
		// A tag no pipeline run built is not an immutable version.
		r.slash(t, "/deploy", "U0BOB", name+" latest to production", "D3", nil)
		if refused := r.reply(t, "D3", 1); !strings.Contains(refused.Text, "version") {
			t.Errorf("a mutable tag answered %+v", refused)
		}
		// Slack has not confirmed Dave's address.
		r.slash(t, "/deploy", "U0DAVE", text, "D4", nil)
		if refused := r.reply(t, "D4", 1); !strings.Contains(refused.Text, "no confirmed e-mail address") {
			t.Errorf("an unconfirmed address answered %+v", refused)
		}
		if n := len(list()); n != 1 {
			t.Errorf("%d requests after the refusals, want 1", n)
		}
		r.slash(t, "/deploy", "U0CAROL", "status "+name, "D5", nil)
		if status := r.reply(t, "D5", 1); !strings.Contains(status.Text, "request "+strconv.FormatInt(q.ID, 10)+": "+deployDigest+" to production, REQUESTED, by bob") {
			t.Errorf("status answered %+v", status)
		}
	})
}

func TestSlackDeployCommandsThatNeedNoWorkAreAnsweredAtOnce(t *testing.T) {
	r := newSlackRig(t, storetest.SQLite(t))
	for text, want := range map[string]string{
		"help":                    "/deploy <component> <version> to <environment>",
		"":                        "/deploy <component> <version> to <environment>",
		"shop":                    "`shop` needs a version",
		"shop v1":                 `the version "v1" must be followed by ` + "`to <environment>`",
		"shop v1 into production": `the version "v1" must be followed by`,
		"shop v1 to":              "`to` needs an environment",
		"status":                  "`status` takes one component",
		strings.Repeat("x", 4001): "at most 4000",
	} {
		code, ack := r.slash(t, "/deploy", "U0BOB", text, "H", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, want) {
			t.Errorf("%.30q answered %d %+v, want %q", text, code, ack, want)
		}
	}
	if _, ack := r.slash(t, "/rollback", "U0BOB", "x", "H", nil); !strings.Contains(ack.Text, "its commands are /pipeline and /deploy") {
		t.Errorf("an unknown command answered %+v", ack)
	}
}
