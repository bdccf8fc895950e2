package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// The meeting report's figures come from what Portside recorded: payments-api's rollout (the
// scripted Argo CD) and its pipeline run (the local provider, for real), for team-payments.
func TestTheMeetingReportCarriesTheTeamsDeliveryFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		run, err := p.pipes.Trigger(operator(), pipelines.TriggerInput{Component: "payments-api", Pipeline: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 30*time.Second, func() bool {
			r, _ := p.pipes.Run(operator(), run.ID)
			return r.Status.Done()
		}, "run %d never ended", run.ID)
		if _, err := p.tasks.CreateProject(operator(), tasks.ProjectInput{Name: "payments-roadmap", Title: "Payments roadmap", Owner: "team-payments"}); err != nil {
			t.Fatal(err)
		}
		carol := p.session("carol")
		res := p.as(carol, `{ md: meetingReport(project: "payments-roadmap") html: meetingReport(project: "payments-roadmap", format: HTML) }`)
		if len(res.Errors) > 0 {
			t.Fatalf("meetingReport: %+v", res.Errors)
		}
		md, page := res.Data["md"].(string), res.Data["html"].(string)
		for _, want := range []string{"# Payments roadmap: status report", "Figures for the components group:default/team\\-payments owns.",
			"| Deploys | 1 (", "| Pipeline success rate | 100% (1 of 1 runs) |", "| Pipeline duration (median, successful runs) |"} {
			if !strings.Contains(md, want) {
				t.Errorf("the report lacks %q:\n%s", want, md)
			}
		}
		if !strings.HasPrefix(page, "<!doctype html>") || !strings.Contains(page, "<table>") {
			t.Errorf("the HTML report:\n%s", page)
		}
		// Signed in only.
		if anon := p.gql(newBrowser().Client, nil, `{ meetingReport(project: "payments-roadmap") }`, nil); anon.Status != 401 {
			t.Errorf("anonymous: %d %+v", anon.Status, anon.Errors)
		}
	})
}
