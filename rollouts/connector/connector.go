// Package connector keeps Argo CD's Go client out of the portside binary. Argo CD's generated
// client brings Kubernetes' API machinery, kubectl and Helm with it: linked into portside it
// grew the binary from 62 MB to 185 MB, and since package initialisation touches nearly all of
// it, every portside command (a catalog import as much as the server) carried over 100 MB of it
// resident. So the Argo CD sources run in a companion binary, portside-argocd, a plugin in the
// sense of HashiCorp's go-plugin (the library Terraform runs its providers with and Vault its
// plugins): `portside serve` starts it when Argo CD instances are configured, go-plugin checks
// the handshake and connects to it over a Unix socket in a private directory, and Process starts
// it again whenever it dies.
//
// The protocol is the rollouts.Source interface over go-plugin's net/rpc: one RPC method per
// Source method (Server's methods), the instances and their API tokens handed over by a first
// call (never on the command line or in the environment, which other processes can read), and
// each watch's events on a stream of their own (go-plugin's MuxBroker), as JSON values. Answers
// travel as JSON too, inside net/rpc's gob: gob leaves out zero values, so a pointer to a zero
// (an actual canary weight of 0) would arrive as no value at all. Errors keep their errs code,
// message and field across it. Nothing here imports argo-cd: the companion's main wires its
// argocd clients into Serve. Other code that needs client-go (the Kubernetes Jobs pipeline
// provider) can join the companion as another plugin of the same set.
package connector

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// traceScope is the instrumentation scope of the connector's spans.
const traceScope = "github.com/portside-dev/portside/rollouts/connector"

// pluginName is the Argo CD plugin of the companion; Extensions are the others.
const pluginName = "argocd"

// Handshake is what portside and portside-argocd check of each other before they talk: a
// companion of another protocol version (from another release) fails the start with go-plugin's
// message instead of garbling calls. The cookie is no secret; it only stops the companion from
// being run by hand. Its name keeps clear of PORTSIDE_: the child gets none of Portside's settings.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ARGOCD_COMPANION_COOKIE",
	MagicCookieValue: "portside-argocd/v1",
}

// Instance is one Argo CD instance as the child connects to it (the fields of argocd.Options).
type Instance struct {
	Name      string
	Addr      string
	Token     string
	PlainText bool
	Insecure  bool
	GRPCWeb   bool
}

// ConfigureArgs are the arguments of Server.Configure: the instances with their tokens, the
// broker stream the parent holds open for as long as it lives (see Server.Configure), and the
// tracing the child does (nil: none).
type ConfigureArgs struct {
	Instances []Instance
	Lifeline  uint32
	Tracing   *TraceSettings
}

// TraceSettings are the parent's tracing settings, which the child traces its calls with (its
// spans join the parent's traces: each call carries its trace context, see Call.Trace).
type TraceSettings struct {
	Endpoint                    string
	SampleRatio                 float64
	ServiceName, ServiceVersion string
}

// StartTracing starts the child's tracing with the parent's settings and returns what flushes
// and stops it (the companion's main builds it from package tracing, which Serve does not import).
type StartTracing func(TraceSettings) (stop func(context.Context) error, err error)

// Call carries the arguments of every Source method; each reads the fields it takes.
type Call struct {
	// ID names the call for Server.Cancel.
	ID       uint64
	Instance string
	App      rollouts.Key
	Revision string
	Sync     rollouts.SyncRequest
	Rollback rollouts.RollbackRequest
	Hard     bool
	Resource rollouts.Resource
	Action   string
	// Stream is the broker stream a watch's events go to.
	Stream uint32
	// Trace is the caller's trace context (W3C traceparent and tracestate), empty when the call
	// is not traced: the child's span of the call joins the caller's trace.
	Trace map[string]string
}

// Reply is every method's answer: the JSON of its value, or the error it met.
type Reply struct {
	Value []byte
	Err   *WireError
}

// watchItem is one value of a watch's stream: an event, or the error that ended the watch.
type watchItem struct {
	Event *rollouts.Event `json:"event,omitempty"`
	End   *WireError      `json:"end,omitempty"`
}

// WireError is an error as it crosses to the other process: its code, the message a caller may
// see, the field at fault, and the rest of its text for the logs. Other plugins of the companion
// (pipelines/kubejobs/plugin) send their errors the same way.
type WireError struct {
	Code    errs.Code `json:"code"`
	Message string    `json:"message,omitempty"`
	Field   string    `json:"field,omitempty"`
	Cause   string    `json:"cause,omitempty"`
}

// ToWire is err as it crosses to the other process.
func ToWire(err error) *WireError {
	var e *errs.Error
	if !errors.As(err, &e) {
		return &WireError{Code: errs.Internal, Cause: err.Error()}
	}
	w := &WireError{Code: e.Code, Message: e.Message, Field: e.Field}
	if e.Err != nil {
		w.Cause = e.Err.Error()
	}
	return w
}

// Err is the error again on the other side, with its code, message and field.
func (w *WireError) Err() error {
	e := &errs.Error{Code: w.Code, Message: w.Message, Field: w.Field}
	if w.Cause != "" {
		e.Err = errors.New(w.Cause)
	}
	if e.Code == "" {
		e.Code = errs.Internal
	}
	return e
}
