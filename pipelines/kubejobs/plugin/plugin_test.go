package plugin

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

// fakeEngine is an Engine with function fields; changes delivers what a test sends on it.
type fakeEngine struct {
	trigger func(RunSpec) (pipelines.Update, error)
	status  func(RunSpec) (pipelines.Update, error)
	cancel  func(RunSpec) error
	changes chan string
}

func (f *fakeEngine) Trigger(_ context.Context, r RunSpec) (pipelines.Update, error) {
	return f.trigger(r)
}
func (f *fakeEngine) Status(_ context.Context, r RunSpec) (pipelines.Update, error) {
	return f.status(r)
}
func (f *fakeEngine) Cancel(_ context.Context, r RunSpec) error { return f.cancel(r) }
func (f *fakeEngine) Close() error                              { return nil }
func (f *fakeEngine) Changes(ctx context.Context, fn func(string)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case d := <-f.changes:
			fn(d)
		}
	}
}

// connected is a Provider attached to a companion end serving engine, over go-plugin's own
// in-memory connection.
func connected(t *testing.T, engine *fakeEngine) (*Provider, *Config) {
	t.Helper()
	got := &Config{}
	serving := Serving(func(c Config) (Engine, error) {
		*got = c
		if c.Namespace == "bad" {
			return nil, errs.InvalidField("kubernetes-jobs-namespace", "no such namespace")
		}
		return engine, nil
	})
	client, _ := goplugin.TestPluginRPCConn(t, goplugin.PluginSet{Name: serving}, nil)
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(Name)
	if err != nil {
		t.Fatal(err)
	}
	p := New(Config{Kubeconfig: "/etc/kube/config", Namespace: "ci"}, nil)
	if err := p.Attach(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Detach(errors.New("test over")) })
	return p, got
}

func TestProviderCallsTheCompanionsEngine(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var seen RunSpec
	engine := &fakeEngine{
		trigger: func(r RunSpec) (pipelines.Update, error) {
			seen = r
			return pipelines.Update{ProviderRunID: r.DispatchID, Status: pipelines.Queued,
				Stages: []pipelines.Stage{{Name: "Build", Status: pipelines.Queued, StartedAt: &now}}}, nil
		},
		status: func(r RunSpec) (pipelines.Update, error) {
			return pipelines.Update{}, errs.InvalidField("stages[1].resources.limits.memory", "too much")
		},
		cancel: func(r RunSpec) error { return errs.E(errs.Unavailable, "the API server is down") },
	}
	p, cfg := connected(t, engine)
	if cfg.Kubeconfig != "/etc/kube/config" || cfg.Namespace != "ci" {
		t.Errorf("the engine was configured with %+v", cfg)
	}
	decl := pipelines.Declaration{Name: "release", Provider: pipelines.ProviderKubernetes,
		Stages: []pipelines.StageDecl{{Name: "Build", Job: &pipelines.JobStage{Image: "busybox", BackoffLimit: 0}}}}
	u, err := p.Trigger(context.Background(), pipelines.TriggerRequest{RunID: 7, DispatchID: "abc", Component: "component:default/x",
		Pipeline: decl, Ref: "main", Parameters: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.ProviderRunID != "abc" || u.Status != pipelines.Queued || len(u.Stages) != 1 || u.Stages[0].StartedAt == nil || !u.Stages[0].StartedAt.Equal(now) {
		t.Errorf("update %+v", u)
	}
	if seen.RunID != 7 || seen.Pipeline != "release" || seen.Parameters["a"] != "b" || len(seen.Stages) != 1 || seen.Stages[0].Job == nil ||
		seen.Stages[0].Job.Image != "busybox" {
		t.Errorf("the engine saw %+v", seen)
	}
	run := pipelines.Run{ID: 7, DispatchID: "abc", ProviderRunID: "abc"}
	_, err = p.Status(context.Background(), run, decl)
	if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "stages[1].resources.limits.memory" {
		t.Errorf("status: %v (field %q); the error's code and field must cross", err, errs.FieldOf(err))
	}
	if err := p.Cancel(context.Background(), run, decl); !errs.Is(err, errs.Unavailable) {
		t.Errorf("cancel: %v", err)
	}
	// A run whose trigger has not returned is not read (it has no Job yet).
	if _, err := p.Status(context.Background(), pipelines.Run{ID: 8, DispatchID: "def"}, decl); !errs.Is(err, errs.NotFound) {
		t.Errorf("status while starting: %v", err)
	}
}

func TestChangeNoticesReachOnChange(t *testing.T) {
	engine := &fakeEngine{changes: make(chan string)}
	got := make(chan string, 10)
	p := New(Config{Namespace: "ci"}, nil)
	p.OnChange(func(id string) { got <- id })
	serving := Serving(func(Config) (Engine, error) { return engine, nil })
	client, _ := goplugin.TestPluginRPCConn(t, goplugin.PluginSet{Name: serving}, nil)
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Attach(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	defer p.Detach(errors.New("test over"))
	for _, id := range []string{"run-a", "run-b"} {
		engine.changes <- id // blocks until the companion's end follows the engine
		if n := <-got; n != id {
			t.Errorf("notice %q, want %q", n, id)
		}
	}
}

func TestCallsWithoutACompanionWaitOrSayWhy(t *testing.T) {
	p := New(Config{Namespace: "ci"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run := pipelines.Run{ID: 1, DispatchID: "abc", ProviderRunID: "abc"}
	if _, err := p.Status(ctx, run, pipelines.Declaration{}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("before the companion started: %v", err)
	}
	p.Detach(errors.New("portside-argocd exited"))
	if _, err := p.Status(context.Background(), run, pipelines.Declaration{}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("after the companion exited: %v", err)
	}
}

func TestABadConfigurationFailsTheAttach(t *testing.T) {
	serving := Serving(func(c Config) (Engine, error) {
		return nil, errs.InvalidField("kubernetes-jobs-namespace", "no such namespace")
	})
	client, _ := goplugin.TestPluginRPCConn(t, goplugin.PluginSet{Name: serving}, nil)
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(Name)
	if err != nil {
		t.Fatal(err)
	}
	err = New(Config{Namespace: "ci"}, nil).Attach(context.Background(), raw)
	if errs.FieldOf(err) != "kubernetes-jobs-namespace" {
		t.Errorf("attach: %v", err)
	}
}

func TestTheNoticeQueueIsBoundedAndCoalesces(t *testing.T) {
	called := make(chan struct{})
	release := make(chan struct{})
	var first sync.Once
	q := newNoticeQueue(func(string) {
		first.Do(func() { // the first notice holds the worker until the queue is full
			close(called)
			<-release
		})
	})
	defer q.close()
	q.add("first")
	<-called
	for i := range maxPendingNotices + 50 {
		q.add("run-" + strconv.Itoa(i))
		q.add("run-" + strconv.Itoa(i)) // a second notice for a waiting run is the same notice
	}
	q.mu.Lock()
	pending, order := len(q.pending), len(q.order)
	q.mu.Unlock()
	close(release)
	if pending != maxPendingNotices || order != maxPendingNotices {
		t.Errorf("%d pending (%d in order); want the bound %d", pending, order, maxPendingNotices)
	}
}
