package connector_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/connector"
	"github.com/portside-dev/portside/rollouts/connector/connectortest"
)

// fakeSource is a rollouts.Source whose methods the test sets; an unset one fails the test.
type fakeSource struct {
	t             *testing.T
	name          string
	list          func() ([]rollouts.Application, error)
	watch         func(ctx context.Context, fn func(rollouts.Event)) error
	commit        func(app rollouts.Key, rev string) (rollouts.Commit, error)
	sync          func(app rollouts.Key, req rollouts.SyncRequest) (rollouts.Application, error)
	rollback      func(app rollouts.Key, req rollouts.RollbackRequest) (rollouts.Application, error)
	terminate     func(app rollouts.Key) (bool, error)
	refresh       func(app rollouts.Key, hard bool) (rollouts.Application, error)
	canary        func(app rollouts.Key, res rollouts.Resource) (*rollouts.Canary, error)
	rolloutAction func(app rollouts.Key, res rollouts.Resource, action string) error
	syncWindows   func(app rollouts.Key) (rollouts.SyncWindows, error)
}

func (f *fakeSource) unset(m string) error {
	f.t.Errorf("%s called, but the test did not expect it", m)
	return errors.New("unexpected call")
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) List(context.Context) ([]rollouts.Application, error) {
	if f.list == nil {
		return nil, f.unset("List")
	}
	return f.list()
}
func (f *fakeSource) Watch(ctx context.Context, fn func(rollouts.Event)) error {
	if f.watch == nil {
		return f.unset("Watch")
	}
	return f.watch(ctx, fn)
}
func (f *fakeSource) Commit(_ context.Context, app rollouts.Key, rev string) (rollouts.Commit, error) {
	if f.commit == nil {
		return rollouts.Commit{}, f.unset("Commit")
	}
	return f.commit(app, rev)
}
func (f *fakeSource) Sync(_ context.Context, app rollouts.Key, req rollouts.SyncRequest) (rollouts.Application, error) {
	if f.sync == nil {
		return rollouts.Application{}, f.unset("Sync")
	}
	return f.sync(app, req)
}
func (f *fakeSource) Rollback(_ context.Context, app rollouts.Key, req rollouts.RollbackRequest) (rollouts.Application, error) {
	if f.rollback == nil {
		return rollouts.Application{}, f.unset("Rollback")
	}
	return f.rollback(app, req)
}
func (f *fakeSource) Terminate(_ context.Context, app rollouts.Key) (bool, error) {
	if f.terminate == nil {
		return false, f.unset("Terminate")
	}
	return f.terminate(app)
}
func (f *fakeSource) Refresh(_ context.Context, app rollouts.Key, hard bool) (rollouts.Application, error) {
	if f.refresh == nil {
		return rollouts.Application{}, f.unset("Refresh")
	}
	return f.refresh(app, hard)
}
func (f *fakeSource) Canary(_ context.Context, app rollouts.Key, res rollouts.Resource) (*rollouts.Canary, error) {
	if f.canary == nil {
		return nil, f.unset("Canary")
	}
	return f.canary(app, res)
}
func (f *fakeSource) RolloutAction(_ context.Context, app rollouts.Key, res rollouts.Resource, action string) error {
	if f.rolloutAction == nil {
		return f.unset("RolloutAction")
	}
	return f.rolloutAction(app, res, action)
}
func (f *fakeSource) SyncWindows(_ context.Context, app rollouts.Key) (rollouts.SyncWindows, error) {
	if f.syncWindows == nil {
		return rollouts.SyncWindows{}, f.unset("SyncWindows")
	}
	return f.syncWindows(app)
}

// filled returns a T with every field set to something other than its zero value (a slice or
// map of one element, a pointer to a filled value), different for each seed: what crosses the
// socket must come back whole, including fields added after this test was written.
func filled[T any](seed int) T {
	var v T
	fill(reflect.ValueOf(&v).Elem(), seed, 0)
	return v
}

func fill(v reflect.Value, seed, depth int) {
	if depth > 8 {
		return
	}
	if v.Type() == reflect.TypeOf(time.Time{}) {
		v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 10, seed%60, depth, seed*1000, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-%d", seed, depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(seed*10 + depth + 1))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), seed, depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), seed, depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, seed, depth+1)
		fill(e, seed+1, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), seed+i, depth+1)
			}
		}
	default:
		panic("connector_test: fill does not know " + v.Type().String())
	}
}

func relay(t *testing.T, f *fakeSource) rollouts.Source {
	f.t, f.name = t, "prod"
	return connectortest.Relay(t, f)[0]
}

func TestEveryMethodCarriesItsArgumentsAndItsAnswerWhole(t *testing.T) {
	ctx := context.Background()
	app, res := filled[rollouts.Key](1), filled[rollouts.Resource](2)
	wantApp, wantCommit := filled[rollouts.Application](3), filled[rollouts.Commit](4)
	wantCanary, wantWindows := filled[rollouts.Canary](5), filled[rollouts.SyncWindows](6)
	syncReq, rollbackReq := filled[rollouts.SyncRequest](7), filled[rollouts.RollbackRequest](8)
	var got []string // the arguments each method received, in order
	seen := func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
	src := relay(t, &fakeSource{
		list: func() ([]rollouts.Application, error) { return []rollouts.Application{wantApp, wantApp}, nil },
		commit: func(a rollouts.Key, rev string) (rollouts.Commit, error) {
			seen("commit %v %s", a, rev)
			return wantCommit, nil
		},
		sync: func(a rollouts.Key, req rollouts.SyncRequest) (rollouts.Application, error) {
			seen("sync %v %+v", a, req)
			return wantApp, nil
		},
		rollback: func(a rollouts.Key, req rollouts.RollbackRequest) (rollouts.Application, error) {
			seen("rollback %v %+v", a, req)
			return wantApp, nil
		},
		terminate: func(a rollouts.Key) (bool, error) { seen("terminate %v", a); return true, nil },
		refresh: func(a rollouts.Key, hard bool) (rollouts.Application, error) {
			seen("refresh %v %v", a, hard)
			return wantApp, nil
		},
		canary: func(a rollouts.Key, r rollouts.Resource) (*rollouts.Canary, error) {
			seen("canary %v %v", a, r)
			return &wantCanary, nil
		},
		rolloutAction: func(a rollouts.Key, r rollouts.Resource, action string) error {
			seen("action %v %v %s", a, r, action)
			return nil
		},
		syncWindows: func(a rollouts.Key) (rollouts.SyncWindows, error) { seen("windows %v", a); return wantWindows, nil },
	})
	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s through the socket (-sent +received):\n%s", what, d)
		}
	}
	apps, err := src.List(ctx)
	check("List", apps, []rollouts.Application{wantApp, wantApp}, err)
	c, err := src.Commit(ctx, app, "abc123")
	check("Commit", c, wantCommit, err)
	a, err := src.Sync(ctx, app, syncReq)
	check("Sync", a, wantApp, err)
	a, err = src.Rollback(ctx, app, rollbackReq)
	check("Rollback", a, wantApp, err)
	ok, err := src.Terminate(ctx, app)
	check("Terminate", ok, true, err)
	a, err = src.Refresh(ctx, app, true)
	check("Refresh", a, wantApp, err)
	cn, err := src.Canary(ctx, app, res)
	check("Canary", cn, &wantCanary, err)
	check("RolloutAction", nil, nil, src.RolloutAction(ctx, app, res, "promote-full"))
	sw, err := src.SyncWindows(ctx, app)
	check("SyncWindows", sw, wantWindows, err)

	want := []string{
		fmt.Sprintf("commit %v abc123", app),
		fmt.Sprintf("sync %v %+v", app, syncReq),
		fmt.Sprintf("rollback %v %+v", app, rollbackReq),
		fmt.Sprintf("terminate %v", app),
		fmt.Sprintf("refresh %v true", app),
		fmt.Sprintf("canary %v %v", app, res),
		fmt.Sprintf("action %v %v promote-full", app, res),
		fmt.Sprintf("windows %v", app),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("arguments the source received (-sent +received):\n%s", d)
	}
}

func TestAMissingCanaryStaysMissing(t *testing.T) {
	src := relay(t, &fakeSource{canary: func(rollouts.Key, rollouts.Resource) (*rollouts.Canary, error) { return nil, nil }})
	c, err := src.Canary(context.Background(), rollouts.Key{Name: "a"}, rollouts.Resource{Kind: "Rollout"})
	if err != nil || c != nil {
		t.Fatalf("Canary = %+v, %v; want nil, nil", c, err)
	}
}

func TestErrorsKeepTheirCodeMessageAndFieldAcrossTheSocket(t *testing.T) {
	cause := errors.New("rpc error: code = PermissionDenied desc = blocked by sync window")
	for _, tc := range []struct {
		name string
		err  error
		code errs.Code
		// public is what a caller may be shown; text the whole error, for the logs.
		public, field, text string
	}{
		{"a conflict with its cause", &errs.Error{Code: errs.Conflict, Message: `Argo CD "prod" refused to sync payments: a sync window forbids it`, Err: cause},
			errs.Conflict, `Argo CD "prod" refused to sync payments: a sync window forbids it`, "",
			`Argo CD "prod" refused to sync payments: a sync window forbids it: rpc error: code = PermissionDenied desc = blocked by sync window`},
		{"an invalid field", errs.InvalidField("revision", "is not a commit"), errs.Invalid, "revision: is not a commit", "revision", "revision: is not a commit"},
		{"not found", errs.E(errs.NotFound, "application payments not found"), errs.NotFound, "application payments not found", "", "application payments not found"},
		{"unavailable", errs.E(errs.Unavailable, `Argo CD "prod" cannot be reached`), errs.Unavailable, `Argo CD "prod" cannot be reached`, "", `Argo CD "prod" cannot be reached`},
		{"an error without a code", errors.New("boom"), errs.Internal, "internal error", "", "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := relay(t, &fakeSource{commit: func(rollouts.Key, string) (rollouts.Commit, error) { return rollouts.Commit{}, tc.err }})
			_, err := src.Commit(context.Background(), rollouts.Key{Name: "payments"}, "abc")
			if errs.CodeOf(err) != tc.code || errs.PublicMessage(err) != tc.public || errs.FieldOf(err) != tc.field || err.Error() != tc.text {
				t.Errorf("got code %s, public %q, field %q, text %q\nwant code %s, public %q, field %q, text %q",
					errs.CodeOf(err), errs.PublicMessage(err), errs.FieldOf(err), err.Error(), tc.code, tc.public, tc.field, tc.text)
			}
		})
	}
}

func TestTheWatchDeliversEveryEventInOrderAndWhatEndedIt(t *testing.T) {
	events := []rollouts.Event{{App: filled[rollouts.Application](1)}, {App: filled[rollouts.Application](2)}, {Deleted: true, App: filled[rollouts.Application](3)}}
	src := relay(t, &fakeSource{watch: func(_ context.Context, fn func(rollouts.Event)) error {
		for _, ev := range events {
			fn(ev)
		}
		return errs.E(errs.Unavailable, `Argo CD "prod" closed the watch`)
	}})
	var got []rollouts.Event
	err := src.Watch(context.Background(), func(ev rollouts.Event) { got = append(got, ev) })
	if d := cmp.Diff(events, got); d != "" {
		t.Errorf("events (-sent +received):\n%s", d)
	}
	if errs.CodeOf(err) != errs.Unavailable || err.Error() != `Argo CD "prod" closed the watch` {
		t.Errorf("the watch ended with %v (%s), want the source's UNAVAILABLE", err, errs.CodeOf(err))
	}
}

func TestAWatchEndsWhenItsContextDoesAndTheSourceSeesIt(t *testing.T) {
	stopped := make(chan error, 1)
	src := relay(t, &fakeSource{watch: func(ctx context.Context, fn func(rollouts.Event)) error {
		fn(rollouts.Event{App: filled[rollouts.Application](1)})
		<-ctx.Done()
		stopped <- ctx.Err()
		return ctx.Err()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	err := src.Watch(ctx, func(rollouts.Event) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Watch ended with %v, want context.Canceled", err)
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("the source's watch saw %v, want its context canceled", err)
	}
}

func TestAnUnknownInstanceIsNotFoundByName(t *testing.T) {
	socket := connectortest.Serve(t, &fakeSource{t: t, name: "prod"})
	srcs, conn, err := connector.Dial(socket, []string{"staging"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_, err = srcs[0].List(context.Background())
	if errs.CodeOf(err) != errs.NotFound || !strings.Contains(err.Error(), `"staging"`) {
		t.Errorf("List on an instance the connector does not have = %v (%s), want NOT_FOUND naming it", err, errs.CodeOf(err))
	}
}

func TestAWatchAfterACutLeavesOutTheRepeatsOfWhatTheLastOneDelivered(t *testing.T) {
	app := func(name, version string) rollouts.Event {
		var a rollouts.Application
		a.Instance, a.AppNamespace, a.Application, a.ResourceVersion = "prod", "argocd", name, version
		return rollouts.Event{App: a}
	}
	gone := app("c", "7")
	gone.Deleted = true
	watches := [][]rollouts.Event{
		{app("a", "1"), app("b", "1"), app("c", "1")},
		// Argo CD opens every watch with the state of every application.
		{app("a", "1"), app("b", "2"), gone, app("a", "3")},
	}
	n := 0
	src := relay(t, &fakeSource{watch: func(_ context.Context, fn func(rollouts.Event)) error {
		for _, ev := range watches[n] {
			fn(ev)
		}
		n++
		return errs.E(errs.Unavailable, "cut")
	}})
	var got [][]string
	for range watches {
		var seen []string
		_ = src.Watch(context.Background(), func(ev rollouts.Event) {
			seen = append(seen, fmt.Sprintf("%s@%s deleted=%v", ev.App.Application, ev.App.ResourceVersion, ev.Deleted))
		})
		got = append(got, seen)
	}
	want := [][]string{
		{"a@1 deleted=false", "b@1 deleted=false", "c@1 deleted=false"},
		{"b@2 deleted=false", "c@7 deleted=true", "a@3 deleted=false"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events per watch (-want +got):\n%s", d)
	}
}
