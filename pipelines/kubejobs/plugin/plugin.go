// Package plugin carries the Kubernetes Jobs pipeline provider across to the companion process.
// The provider needs client-go, which the portside binary must not link (see rollouts/connector:
// it would make every portside command carry Kubernetes' machinery resident), so its logic
// (pipelines/kubejobs) runs in portside-argocd as a second go-plugin plugin, "kubejobs", beside
// Argo CD's. This package is both ends of that plugin and imports no client-go: Provider is the
// pipelines.Provider portside registers, which calls the companion's Engine over net/rpc, and
// streams the informer's change notices back so the pipelines service looks at a run as soon as
// one of its Jobs or Pods changes (Service.Nudge, as a webhook does for GitHub).
//
// The protocol follows rollouts/connector's: arguments and answers travel as JSON inside net/rpc's
// gob (gob leaves out zero values), errors keep their errs code (connector.WireError), and the
// change notices go on a broker stream of their own, one JSON string (a run's dispatch ID) each.
package plugin

import (
	"context"
	"encoding/json"
	"net/rpc"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts/connector"
)

// Name is the plugin's name in the companion's plugin set.
const Name = "kubejobs"

// callTimeout bounds one call in the companion, whatever the caller's context (net/rpc carries
// none across): a Kubernetes API server that hangs must not pile calls up there.
const callTimeout = 30 * time.Second

// Config is how the companion reaches the cluster: a kubeconfig file (read by the companion,
// never sent: the credentials stay in the file) or the in-cluster service account, and the
// namespace the Jobs run in.
type Config struct {
	Kubeconfig string
	InCluster  bool
	Namespace  string
}

// RunSpec is a run as the engine needs it to create and read its Jobs: everything comes from
// Portside's run and the pipeline's declaration, so the companion keeps no state of its own.
type RunSpec struct {
	RunID      int64
	DispatchID string
	Component  string
	Pipeline   string
	Ref        string
	Parameters map[string]string
	Stages     []pipelines.StageDecl
}

// Engine runs pipelines as Kubernetes Jobs; pipelines/kubejobs implements it in the companion.
type Engine interface {
	// Trigger creates the first stage's Job.
	Trigger(ctx context.Context, run RunSpec) (pipelines.Update, error)
	// Status derives the run's state from its Jobs and Pods, and creates the next stage's Job
	// when the one before it completed.
	Status(ctx context.Context, run RunSpec) (pipelines.Update, error)
	// Cancel deletes the run's Jobs (foreground propagation: their Pods go first).
	Cancel(ctx context.Context, run RunSpec) error
	// Changes calls fn with the dispatch ID of every run whose Jobs or Pods changed, until ctx
	// ends or the engine stops.
	Changes(ctx context.Context, fn func(dispatchID string)) error
	// Close stops the engine's informers.
	Close() error
}

// Serving is the companion's end of the plugin: newEngine builds the engine once the parent has
// sent its Config. The companion's main passes it to connector.Serve.
func Serving(newEngine func(Config) (Engine, error)) goplugin.Plugin {
	return &kubePlugin{newEngine: newEngine}
}

// kubePlugin is the go-plugin plugin of both ends.
type kubePlugin struct {
	newEngine func(Config) (Engine, error)
}

// Server returns what the companion serves over net/rpc.
func (k *kubePlugin) Server(b *goplugin.MuxBroker) (any, error) {
	return &Server{broker: b, newEngine: k.newEngine}, nil
}

// Client returns the parent's end.
func (k *kubePlugin) Client(b *goplugin.MuxBroker, c *rpc.Client) (any, error) {
	return &remote{rpc: c, broker: b}, nil
}

// reply wraps a value or an error as connector.Reply.
func reply(out *connector.Reply, v any, err error) error {
	if err == nil {
		out.Value, err = json.Marshal(v)
	}
	if err != nil {
		out.Err = connector.ToWire(err)
	}
	return nil
}

// notConfigured is what a call before Configure meets.
var notConfigured = errs.E(errs.Unavailable, "the Kubernetes Jobs provider in %s is not configured yet", connector.BinaryName)
