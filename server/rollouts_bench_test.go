package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
)

// BenchmarkComponentPage serves the component page (benchcat.ComponentPage: owner, system, the
// deployment and its last 10 rollouts) over HTTP with an API token, one request at a time: the
// CPU a request costs, which bounds what one core serves (the load driver measures the rest).
func BenchmarkComponentPage(b *testing.B) {
	// The access log of every request would bury the benchmark's report: it goes nowhere here.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	st := storetest.SQLite(b)
	p := newPortal(b, st)
	p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) {
		a.Status.History = nil
		for i := range 10 {
			start := metav1.NewTime(time.Date(2026, 11, 1+i, 9, 0, 0, 0, time.UTC))
			end := metav1.NewTime(start.Add(time.Minute))
			a.Status.History = append(a.Status.History, v1alpha1.RevisionHistory{ID: int64(i), Revision: fmt.Sprintf("r%d", i),
				DeployStartedAt: &start, DeployedAt: end})
		}
	})
	secret, _, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "bench", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]any{benchcat.ComponentPage.Var: "component:default/payments-api"}
	var c map[string]any
	testutil.Eventually(b, 10*time.Second, func() bool {
		res := p.gql(http.DefaultClient, bearer(secret), benchcat.ComponentPage.Query, vars)
		if len(res.Errors) > 0 {
			b.Fatalf("component page: %+v", res.Errors)
		}
		c = res.Data["entity"].(map[string]any)
		n := c["rollouts"].(map[string]any)["totalCount"].(float64)
		return n >= 10 && len(c["deployments"].([]any)) == 1
	}, func() string {
		return fmt.Sprintf("the component page never showed one deployment with 10 rollouts or more: %v", c)
	})
	b.ResetTimer()
	for range b.N {
		if res := p.gql(http.DefaultClient, bearer(secret), benchcat.ComponentPage.Query, vars); res.Status != http.StatusOK || len(res.Errors) > 0 {
			b.Fatalf("component page: %d %+v", res.Status, res.Errors)
		}
	}
}
