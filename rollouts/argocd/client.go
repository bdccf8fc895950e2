// Package argocd connects Portside to Argo CD instances with Argo CD's own Go client
// (github.com/argoproj/argo-cd/v2/pkg/apiclient) over gRPC or gRPC-web, and turns what they
// report into the rollouts package's types. It is the only package that imports argo-cd.
package argocd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// noLocalConfig is a path that does not exist: apiclient reads the argocd CLI's config file from
// it, and only a missing file means "no config" to it.
var noLocalConfig = filepath.Join(os.TempDir(), fmt.Sprintf("portside-%d-no-argocd-config", os.Getpid()), "config")

// Options describe one Argo CD instance.
type Options struct {
	// Name is how Portside calls the instance (argocd/instance-name matches it).
	Name string
	// Addr is the API server's host:port.
	Addr string
	// Token is an Argo CD API token (an account's or a project role's).
	Token string
	// PlainText speaks gRPC without TLS (a sidecar, a loopback test server); Insecure skips TLS
	// verification. Neither belongs in production over a network.
	PlainText, Insecure bool
	// GRPCWeb speaks gRPC-web over HTTP/1.1, for ingresses that do not pass HTTP/2 through.
	GRPCWeb bool
	// ConnectTimeout bounds the first contact (10 s when 0).
	ConnectTimeout time.Duration
}

// Client talks to one Argo CD instance. It connects on first use and keeps the connection.
type Client struct {
	opts Options

	mu     sync.Mutex
	conn   io.Closer
	apps   application.ApplicationServiceClient
	closed bool
}

// New checks the options; it does not connect yet, so an instance that is down does not stop
// Portside from starting.
func New(opts Options) (*Client, error) {
	switch {
	case opts.Name == "":
		return nil, errs.InvalidField("name", "an Argo CD instance needs a name")
	case opts.Addr == "":
		return nil, errs.InvalidField("addr", "Argo CD instance %q has no address", opts.Name)
	case opts.Token == "":
		return nil, errs.InvalidField("token", "Argo CD instance %q has no API token", opts.Name)
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	return &Client{opts: opts}, nil
}

// Name is the instance's name.
func (c *Client) Name() string { return c.opts.Name }

// Close drops the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.apps = nil, nil
	return err
}

// applications returns the application service, connecting first if need be.
func (c *Client) applications(ctx context.Context) (application.ApplicationServiceClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errs.E(errs.Unavailable, "the Argo CD client for %q is closed", c.opts.Name)
	}
	if c.apps != nil {
		return c.apps, nil
	}
	// apiclient.NewClient probes the server's version without a deadline (and falls back to
	// gRPC-web if plain gRPC fails), so it runs aside and is given up on after ConnectTimeout; the
	// mutex keeps that to one probe at a time per instance.
	type result struct {
		cl  apiclient.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		cl, err := apiclient.NewClient(&apiclient.ClientOptions{
			ServerAddr: c.opts.Addr, AuthToken: c.opts.Token, PlainText: c.opts.PlainText,
			Insecure: c.opts.Insecure, GRPCWeb: c.opts.GRPCWeb, UserAgent: "portside",
			// Never read an argocd CLI config from the home directory of whoever runs Portside.
			ConfigPath: noLocalConfig,
		})
		done <- result{cl, err}
	}()
	timer := time.NewTimer(c.opts.ConnectTimeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		return nil, errs.E(errs.Unavailable, "Argo CD %q (%s) did not answer within %s", c.opts.Name, c.opts.Addr, c.opts.ConnectTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, errs.Wrap(errs.Unavailable, r.err, "Argo CD %q (%s) cannot be reached", c.opts.Name, c.opts.Addr)
	}
	conn, apps, err := r.cl.NewApplicationClient()
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "Argo CD %q (%s) cannot be reached", c.opts.Name, c.opts.Addr)
	}
	c.conn, c.apps = conn, apps
	return apps, nil
}

// List returns every application the token can see.
func (c *Client) List(ctx context.Context) ([]rollouts.Application, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return nil, err
	}
	list, err := apps.List(ctx, &application.ApplicationQuery{})
	if err != nil {
		return nil, c.translate(err, "list applications")
	}
	out := make([]rollouts.Application, len(list.Items))
	for i := range list.Items {
		out[i] = toApplication(c.opts.Name, &list.Items[i])
	}
	return out, nil
}

// Watch follows every application the token can see. Argo CD opens the stream with the current
// state of each (a watch without a resource version), then sends changes as they happen.
func (c *Client) Watch(ctx context.Context, fn func(rollouts.Event)) error {
	apps, err := c.applications(ctx)
	if err != nil {
		return err
	}
	stream, err := apps.Watch(ctx, &application.ApplicationQuery{})
	if err != nil {
		return c.translate(err, "watch applications")
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			if err == io.EOF {
				return errs.E(errs.Unavailable, "Argo CD %q closed the watch", c.opts.Name)
			}
			return c.translate(err, "watch applications")
		}
		fn(rollouts.Event{Deleted: ev.Type == watch.Deleted, App: toApplication(c.opts.Name, &ev.Application)})
	}
}

// Commit asks Argo CD about a revision of an application (from its repository).
func (c *Client) Commit(ctx context.Context, app rollouts.Key, revision string) (rollouts.Commit, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return rollouts.Commit{}, err
	}
	q := &application.RevisionMetadataQuery{Name: &app.Name, Revision: &revision}
	if app.Namespace != "" {
		q.AppNamespace = &app.Namespace
	}
	md, err := apps.RevisionMetadata(ctx, q)
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.Unknown {
			// What Argo CD says when the repository does not have the revision: a final answer.
			return rollouts.Commit{}, &errs.Error{Code: errs.NotFound, Err: err,
				Message: fmt.Sprintf("Argo CD %q: revision %s of %s: %s", c.opts.Name, revision, app.Name, st.Message())}
		}
		return rollouts.Commit{}, c.translate(err, fmt.Sprintf("revision %s of %s", revision, app.Name))
	}
	return rollouts.Commit{Author: md.Author, Message: md.Message, Date: timeOf(&md.Date)}, nil
}

// translate maps a gRPC error to Portside's codes, naming the instance.
func (c *Client) translate(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	st, _ := status.FromError(err)
	msg := fmt.Sprintf("Argo CD %q: %s: %s", c.opts.Name, what, st.Message())
	switch st.Code() {
	case codes.Unauthenticated:
		return &errs.Error{Code: errs.Unavailable, Message: msg + " (check the instance's API token)", Err: err}
	case codes.PermissionDenied:
		return &errs.Error{Code: errs.Forbidden, Message: msg, Err: err}
	case codes.NotFound:
		return &errs.Error{Code: errs.NotFound, Message: msg, Err: err}
	case codes.InvalidArgument:
		return &errs.Error{Code: errs.Invalid, Message: msg, Err: err}
	case codes.FailedPrecondition:
		return &errs.Error{Code: errs.Conflict, Message: msg, Err: err}
	default:
		return &errs.Error{Code: errs.Unavailable, Message: msg, Err: err}
	}
}

// RequestedByInfo is the operation info item in which Portside records who asked for a sync:
// Argo CD itself sees Portside's account, and shows the item in its UI next to it.
const RequestedByInfo = "Requested through Portside by"

// Sync starts a sync of the application.
func (c *Client) Sync(ctx context.Context, app rollouts.Key, req rollouts.SyncRequest) (rollouts.Application, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return rollouts.Application{}, err
	}
	r := &application.ApplicationSyncRequest{Name: &app.Name, Prune: &req.Prune, DryRun: &req.DryRun}
	if app.Namespace != "" {
		r.AppNamespace = &app.Namespace
	}
	if req.Revision != "" {
		r.Revision = &req.Revision
	}
	if req.RequestedBy != "" {
		r.Infos = []*v1alpha1.Info{{Name: RequestedByInfo, Value: req.RequestedBy}}
	}
	a, err := apps.Sync(ctx, r)
	if err != nil {
		return rollouts.Application{}, c.translateAction(err, "sync "+app.Name)
	}
	return toApplication(c.opts.Name, a), nil
}

// Rollback starts a sync back to a history entry's revision.
func (c *Client) Rollback(ctx context.Context, app rollouts.Key, req rollouts.RollbackRequest) (rollouts.Application, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return rollouts.Application{}, err
	}
	r := &application.ApplicationRollbackRequest{Name: &app.Name, Id: &req.HistoryID, Prune: &req.Prune, DryRun: &req.DryRun}
	if app.Namespace != "" {
		r.AppNamespace = &app.Namespace
	}
	a, err := apps.Rollback(ctx, r)
	if err != nil {
		return rollouts.Application{}, c.translateAction(err, fmt.Sprintf("roll %s back to history ID %d", app.Name, req.HistoryID))
	}
	return toApplication(c.opts.Name, a), nil
}

// Terminate stops the application's running operation; ok is false when none was running.
func (c *Client) Terminate(ctx context.Context, app rollouts.Key) (bool, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return false, err
	}
	r := &application.OperationTerminateRequest{Name: &app.Name}
	if app.Namespace != "" {
		r.AppNamespace = &app.Namespace
	}
	if _, err := apps.TerminateOperation(ctx, r); err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "No operation is in progress") {
			return false, nil
		}
		return false, c.translateAction(err, "terminate the operation of "+app.Name)
	}
	return true, nil
}

// Refresh asks Argo CD to compare the application with git again and returns it.
func (c *Client) Refresh(ctx context.Context, app rollouts.Key, hard bool) (rollouts.Application, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return rollouts.Application{}, err
	}
	kind := string(v1alpha1.RefreshTypeNormal)
	if hard {
		kind = string(v1alpha1.RefreshTypeHard)
	}
	q := &application.ApplicationQuery{Name: &app.Name, Refresh: &kind}
	if app.Namespace != "" {
		q.AppNamespace = &app.Namespace
	}
	a, err := apps.Get(ctx, q)
	if err != nil {
		return rollouts.Application{}, c.translateAction(err, "refresh "+app.Name)
	}
	return toApplication(c.opts.Name, a), nil
}

// translateAction is translate for actions, where Argo CD's refusals are reasons a person can act
// on: a sync window, another operation under way, auto-sync forbidding a rollback.
func (c *Client) translateAction(err error, what string) error {
	st, ok := status.FromError(err)
	if ok && st.Code() == codes.PermissionDenied && strings.Contains(st.Message(), "sync window") {
		return &errs.Error{Code: errs.Conflict, Err: err,
			Message: fmt.Sprintf("Argo CD %q refused to %s: a sync window forbids syncing it now (%s)", c.opts.Name, what, st.Message())}
	}
	if ok && st.Code() == codes.FailedPrecondition {
		return &errs.Error{Code: errs.Conflict, Err: err, Message: fmt.Sprintf("Argo CD %q refused to %s: %s", c.opts.Name, what, st.Message())}
	}
	return c.translate(err, what)
}
