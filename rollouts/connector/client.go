package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// transport speaks HTTP over the child's socket.
type transport struct {
	http *http.Client
	// ready waits until a child listens, or says why none does.
	ready func(context.Context) error
}

func newTransport(socket string, ready func(context.Context) error) *transport {
	var d net.Dialer
	return &transport{ready: ready, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", socket)
		},
		// Every watch holds a connection; calls beside them reuse idle ones.
		MaxIdleConnsPerHost: 16,
		DisableCompression:  true,
	}}}
}

// source is one Argo CD instance behind the child: a rollouts.Source.
type source struct {
	name string
	t    *transport
}

// Name is the instance's name.
func (s *source) Name() string { return s.name }

// call posts a request and returns the answer's body, or the error the child reports.
func (s *source) call(ctx context.Context, method string, req request) (*http.Response, error) {
	if err := s.t.ready(ctx); err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://portside-argocd/v1/"+url.PathEscape(s.name)+"/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := s.t.http.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errs.Wrap(errs.Unavailable, err, "Argo CD %q: portside-argocd cannot be reached", s.name)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

// do calls a method and decodes its answer into out.
func (s *source) do(ctx context.Context, method string, req request, out any) error {
	resp, err := s.call(ctx, method, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errs.Wrap(errs.Unavailable, err, "Argo CD %q: portside-argocd's answer to %s was cut off", s.name, method)
	}
	return nil
}

// List returns every application the instance shows Portside.
func (s *source) List(ctx context.Context) ([]rollouts.Application, error) {
	var apps []rollouts.Application
	return apps, s.do(ctx, methodList, request{}, &apps)
}

// Watch follows the instance's applications through the child's watch stream.
func (s *source) Watch(ctx context.Context, fn func(rollouts.Event)) error {
	resp, err := s.call(ctx, methodWatch, request{})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var item watchItem
		if err := dec.Decode(&item); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("the stream ended")
			}
			return errs.Wrap(errs.Unavailable, err, "Argo CD %q: the watch through portside-argocd broke off", s.name)
		}
		switch {
		case item.End != nil:
			return item.End.err()
		case item.Event != nil:
			fn(*item.Event)
		}
	}
}

// Commit describes a revision of an application.
func (s *source) Commit(ctx context.Context, app rollouts.Key, revision string) (rollouts.Commit, error) {
	var c rollouts.Commit
	return c, s.do(ctx, methodCommit, request{App: app, Revision: revision}, &c)
}

// Sync starts a sync operation.
func (s *source) Sync(ctx context.Context, app rollouts.Key, req rollouts.SyncRequest) (rollouts.Application, error) {
	var a rollouts.Application
	return a, s.do(ctx, methodSync, request{App: app, Sync: &req}, &a)
}

// Rollback starts a sync to the revision of a history entry.
func (s *source) Rollback(ctx context.Context, app rollouts.Key, req rollouts.RollbackRequest) (rollouts.Application, error) {
	var a rollouts.Application
	return a, s.do(ctx, methodRollback, request{App: app, Rollback: &req}, &a)
}

// Terminate stops the running operation.
func (s *source) Terminate(ctx context.Context, app rollouts.Key) (bool, error) {
	var t terminated
	return t.OK, s.do(ctx, methodTerminate, request{App: app}, &t)
}

// Refresh makes the instance compare the application with git again.
func (s *source) Refresh(ctx context.Context, app rollouts.Key, hard bool) (rollouts.Application, error) {
	var a rollouts.Application
	return a, s.do(ctx, methodRefresh, request{App: app, Hard: hard}, &a)
}

// Canary reads the live state of an application's Argo Rollouts Rollout.
func (s *source) Canary(ctx context.Context, app rollouts.Key, res rollouts.Resource) (*rollouts.Canary, error) {
	var c *rollouts.Canary
	return c, s.do(ctx, methodCanary, request{App: app, Resource: &res}, &c)
}

// RolloutAction runs an Argo Rollouts action on the Rollout.
func (s *source) RolloutAction(ctx context.Context, app rollouts.Key, res rollouts.Resource, action string) error {
	var none struct{}
	return s.do(ctx, methodRolloutAction, request{App: app, Resource: &res, Action: action}, &none)
}

// SyncWindows asks which sync windows apply to the application now.
func (s *source) SyncWindows(ctx context.Context, app rollouts.Key) (rollouts.SyncWindows, error) {
	var sw rollouts.SyncWindows
	return sw, s.do(ctx, methodSyncWindows, request{App: app}, &sw)
}

// Dial returns the named instances behind a connector that already listens on socket (a child
// run by someone else, or Handler in a test).
func Dial(socket string, names []string) []rollouts.Source {
	t := newTransport(socket, func(context.Context) error { return nil })
	out := make([]rollouts.Source, len(names))
	for i, n := range names {
		out[i] = &source{name: n, t: t}
	}
	return out
}
