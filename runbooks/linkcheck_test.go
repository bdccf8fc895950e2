package runbooks_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// linkServer answers live, dead and odd links.
func linkServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/live", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/dead", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	mux.HandleFunc("/signin", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	mux.HandleFunc("/get-only", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/live", http.StatusFound) })
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// guardFor treats the test server's loopback address (and a closed port beside it) as public,
// as tests of the catalog's URL reader do; everything else keeps the real rule.
func guardFor(addrs ...string) *sources.Guard {
	return &sources.Guard{Public: func(ap netip.AddrPort) bool {
		for _, a := range addrs {
			if ap.String() == a {
				return true
			}
		}
		return false
	}}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTheLinkCheckRecordsLiveAndDeadLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := linkServer(t)
		host := ts.Listener.Addr().String()
		closed := closedAddr(t)
		s := newService(t, st, runbooks.Options{Check: runbooks.CheckOptions{Guard: guardFor(host, closed), Concurrency: 2}})
		// A LINK runbook's URL is checked because it exists; the others because a page showed them.
		if _, err := s.Create(bob, runbooks.CreateInput{Title: "Wiki", Kind: runbooks.Link, URL: ts.URL + "/moved", Links: []string{"checkout"}}); err != nil {
			t.Fatal(err)
		}
		shown := []string{ts.URL + "/live", ts.URL + "/dead", ts.URL + "/broken", ts.URL + "/signin", ts.URL + "/get-only",
			ts.URL + "/to-metadata", "http://" + closed + "/gone", "http://127.0.0.1:1/loopback"}
		before, err := s.LinkStatuses(carol, shown)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range shown {
			if before[u].State != runbooks.LinkUnknown {
				t.Errorf("%s before any check: %+v, want UNKNOWN", u, before[u])
			}
		}
		if err := s.CheckNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		after, err := s.LinkStatuses(carol, append(shown, ts.URL+"/moved"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			state runbooks.LinkState
			code  int
		}{
			"/live": {runbooks.LinkOK, 200}, "/dead": {runbooks.LinkDead, 404}, "/broken": {runbooks.LinkDead, 502},
			"/signin": {runbooks.LinkOK, 401}, "/get-only": {runbooks.LinkOK, 200}, "/moved": {runbooks.LinkOK, 200},
			// The redirect to a link-local address is never followed: the check cannot tell.
			"/to-metadata": {runbooks.LinkUnknown, 0},
		}
		for path, w := range want {
			got := after[ts.URL+path]
			if got.State != w.state || got.HTTPStatus != w.code || got.CheckedAt.IsZero() {
				t.Errorf("%s: %+v, want %s %d", path, got, w.state, w.code)
			}
		}
		if got := after["http://"+closed+"/gone"]; got.State != runbooks.LinkDead || got.Message == "" {
			t.Errorf("a closed port: %+v, want DEAD with why", got)
		}
		if got := after["http://127.0.0.1:1/loopback"]; got.State != runbooks.LinkUnknown || got.Message == "" {
			t.Errorf("loopback (refused by the address rule): %+v, want UNKNOWN with why", got)
		}
	})
}

// The loop runs a round as it starts, then every interval, and stops when told.
func TestTheLinkCheckLoopRunsAndStops(t *testing.T) {
	st := storetest.SQLite(t)
	ts := linkServer(t)
	s := newService(t, st, runbooks.Options{Check: runbooks.CheckOptions{Guard: guardFor(ts.Listener.Addr().String()), Interval: time.Hour}})
	if _, err := s.LinkStatuses(carol, []string{ts.URL + "/dead"}); err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	testutil.Eventually(t, 10*time.Second, func() bool {
		got, err := s.LinkStatuses(carol, []string{ts.URL + "/dead"})
		return err == nil && got[ts.URL+"/dead"].State == runbooks.LinkDead
	}, "the loop never recorded the dead link")
	s.Stop()
	s.Stop() // stopping twice is harmless
}

// Off by default: without an interval, Start runs nothing.
func TestTheLinkCheckIsOffWithoutAnInterval(t *testing.T) {
	st := storetest.SQLite(t)
	ts := linkServer(t)
	s := newService(t, st, runbooks.Options{Check: runbooks.CheckOptions{Guard: guardFor(ts.Listener.Addr().String())}})
	if _, err := s.LinkStatuses(carol, []string{ts.URL + "/dead"}); err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	s.Stop()
	var n int64
	if err := st.Gorm().Raw("SELECT count(*) FROM runbook_link_checks").Scan(&n).Error; err != nil || n != 0 {
		t.Errorf("%d links checked with the check off (%v)", n, err)
	}
}

// With more links than a round checks, the rounds take them in turns: every link is checked
// within as many rounds as it takes, not the same first ones every round (the others UNKNOWN
// forever).
func TestEveryLinkGetsItsTurnWhenThereAreMoreThanARoundChecks(t *testing.T) {
	st := storetest.SQLite(t)
	ts := linkServer(t)
	s := newService(t, st, runbooks.Options{Check: runbooks.CheckOptions{Guard: guardFor(ts.Listener.Addr().String()), Batch: 2}})
	if _, err := s.Create(bob, runbooks.CreateInput{Title: "Wiki", Kind: runbooks.Link, URL: ts.URL + "/live?runbook", Links: []string{"checkout"}}); err != nil {
		t.Fatal(err)
	}
	shown := []string{ts.URL + "/live?a", ts.URL + "/live?b", ts.URL + "/dead?c", ts.URL + "/live?d"}
	if _, err := s.LinkStatuses(carol, shown); err != nil {
		t.Fatal(err)
	}
	all := append([]string{ts.URL + "/live?runbook"}, shown...)
	checked := func() (n int64) {
		st.Gorm().Raw("SELECT count(*) FROM runbook_link_checks").Scan(&n)
		return n
	}
	for round := 1; round <= 3; round++ {
		if err := s.CheckNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		if want := min(int64(2*round), int64(len(all))); checked() != want {
			t.Errorf("after round %d: %d links checked, want %d", round, checked(), want)
		}
	}
	got, err := s.LinkStatuses(carol, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range all {
		if got[u].State == runbooks.LinkUnknown {
			t.Errorf("%s was never checked: %+v", u, got[u])
		}
	}
}
