// Package connector keeps Argo CD's Go client out of the portside binary. Argo CD's generated
// client brings Kubernetes' API machinery, kubectl and Helm with it: linked into portside it
// grew the binary from 62 MB to 185 MB, and since package initialisation touches nearly all of
// it, every portside command (a catalog import as much as the server) carried over 100 MB of it
// resident. So the Argo CD sources run in a companion binary, portside-argocd, that `portside
// serve` starts as a child process when Argo CD instances are configured, and that it talks to
// over a Unix socket in a private directory.
//
// The protocol is the rollouts.Source interface as HTTP/1.1 with JSON bodies: one POST per
// method, and the watch as a stream of JSON values. Errors keep their errs code, message and
// field across it. Nothing here imports argo-cd: the child wires its argocd clients into Serve.
package connector

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// Instance is one Argo CD instance as the child connects to it (the fields of argocd.Options).
type Instance struct {
	Name      string `json:"name"`
	Addr      string `json:"addr"`
	Token     string `json:"token"`
	PlainText bool   `json:"plainText,omitempty"`
	Insecure  bool   `json:"insecure,omitempty"`
	GRPCWeb   bool   `json:"grpcWeb,omitempty"`
}

// childConfig is what the parent writes to the child's standard input, as one JSON line: the
// instances with their tokens (a pipe, unlike arguments and environment, is not readable by other
// processes) and the socket to listen on.
type childConfig struct {
	Socket    string     `json:"socket"`
	Instances []Instance `json:"instances"`
}

// handshake is the one JSON line the child writes to its standard output once it listens, or
// with the reason it cannot.
type handshake struct {
	Ready bool       `json:"ready,omitempty"`
	Error *wireError `json:"error,omitempty"`
}

// The methods, each at POST /v1/{instance}/{method}.
const (
	methodList          = "list"
	methodWatch         = "watch"
	methodCommit        = "commit"
	methodSync          = "sync"
	methodRollback      = "rollback"
	methodTerminate     = "terminate"
	methodRefresh       = "refresh"
	methodCanary        = "canary"
	methodRolloutAction = "rollout-action"
	methodSyncWindows   = "sync-windows"
)

// request carries the arguments of every method; each reads the fields it takes.
type request struct {
	App      rollouts.Key              `json:"app"`
	Revision string                    `json:"revision,omitempty"`
	Sync     *rollouts.SyncRequest     `json:"sync,omitempty"`
	Rollback *rollouts.RollbackRequest `json:"rollback,omitempty"`
	Hard     bool                      `json:"hard,omitempty"`
	Resource *rollouts.Resource        `json:"resource,omitempty"`
	Action   string                    `json:"action,omitempty"`
}

// terminated is Terminate's answer.
type terminated struct {
	OK bool `json:"ok"`
}

// watchItem is one value of the watch stream: an event, or the error that ended the watch.
type watchItem struct {
	Event *rollouts.Event `json:"event,omitempty"`
	End   *wireError      `json:"end,omitempty"`
}

// wireError is an error as it crosses the socket: its code, the message a caller may see, the
// field at fault, and the rest of its text for the logs.
type wireError struct {
	Code    errs.Code `json:"code"`
	Message string    `json:"message,omitempty"`
	Field   string    `json:"field,omitempty"`
	Cause   string    `json:"cause,omitempty"`
}

func toWire(err error) *wireError {
	var e *errs.Error
	if !errors.As(err, &e) {
		return &wireError{Code: errs.Internal, Cause: err.Error()}
	}
	w := &wireError{Code: e.Code, Message: e.Message, Field: e.Field}
	if e.Err != nil {
		w.Cause = e.Err.Error()
	}
	return w
}

func (w *wireError) err() error {
	e := &errs.Error{Code: w.Code, Message: w.Message, Field: w.Field}
	if w.Cause != "" {
		e.Err = errors.New(w.Cause)
	}
	if e.Code == "" {
		e.Code = errs.Internal
	}
	return e
}

// writeJSON answers with v, or with err's code as the status and the error as the body.
func writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(errs.HTTPStatus(err))
		v = toWire(err)
	}
	_ = json.NewEncoder(w).Encode(v)
}

// readError turns an error response back into the error the child met.
func readError(resp *http.Response) error {
	var w wireError
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &w) != nil || w.Code == "" {
		return errs.E(errs.Internal, "portside-argocd answered %s: %.200s", resp.Status, b)
	}
	return w.err()
}
