package kubejobs

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/kubejobs/plugin"
)

// Who creates the next stage's Job: the companion, when the portside server asks for a run's
// Status (which it does at once when this engine's change notice for the run reaches it, and
// otherwise on its polling interval). Not the informer's handler on its own: the next Job is built
// from the pipeline's declaration and the run's parameters, which portside holds (the catalog and
// its database) and hands over with every call, so the companion keeps no copy that could go stale
// or be lost in a restart, and a declaration that no longer validates stops the run in one place.
// The notice makes this event driven (no polling of the API server: the informer watches); the
// deterministic Job names make two Status calls at once create the Job once.

// Options configure a Runner.
type Options struct {
	Config plugin.Config
	Logger *slog.Logger
	// Client is used as it is when set (tests); otherwise one is built from Config.
	Client kubernetes.Interface
	// SyncTimeout bounds the wait for the informers' first list at the start; default 10 s (less
	// than the parent's start timeout).
	SyncTimeout time.Duration
}

// Runner is the engine: plugin.Engine over one namespace of one cluster.
type Runner struct {
	ns     string
	client kubernetes.Interface
	log    *slog.Logger
	jobs   batchlisters.JobNamespaceLister
	pods   corelisters.PodNamespaceLister
	synced []cache.InformerSynced
	stop   chan struct{}
	once   sync.Once

	mu        sync.Mutex
	subs      map[*subscriber]struct{}
	changed   chan struct{} // closed and replaced on every informer event (waitFor)
	cancelled map[string]time.Time
}

type subscriber struct{ fn func(string) }

// maxCancelled bounds the runs remembered as cancelled; the Jobs' deletion says so anyway.
const (
	maxCancelled   = 10000
	cancelledFor   = time.Hour
	defaultSyncFor = 10 * time.Second
)

// RestConfig is the client configuration for cfg: the kubeconfig file's current context, or the
// in-cluster service account. Errors name the setting.
func RestConfig(cfg plugin.Config) (*rest.Config, error) {
	if cfg.InCluster {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, errs.InvalidField("kubernetes-jobs-in-cluster", "no in-cluster service account: %v", err)
		}
		return rc, nil
	}
	if _, err := os.Stat(cfg.Kubeconfig); err != nil {
		return nil, errs.InvalidField("kubernetes-jobs-kubeconfig", "%v", err)
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: cfg.Kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		// clientcmd's errors name the file and what is wrong in it, never the credentials.
		return nil, errs.InvalidField("kubernetes-jobs-kubeconfig", "%v", err)
	}
	return rc, nil
}

// New starts a runner's informers and waits (bounded) for their first list.
func New(opts Options) (*Runner, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = defaultSyncFor
	}
	ns := opts.Config.Namespace
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return nil, errs.InvalidField("kubernetes-jobs-namespace", "%q is not a namespace name: %s", ns, msgs[0])
	}
	client := opts.Client
	if client == nil {
		rc, err := RestConfig(opts.Config)
		if err != nil {
			return nil, err
		}
		rc.UserAgent = "portside-kubejobs"
		if client, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, errs.InvalidField("kubernetes-jobs-kubeconfig", "%v", err)
		}
	}
	r := &Runner{ns: ns, client: client, log: opts.Logger, stop: make(chan struct{}), subs: map[*subscriber]struct{}{},
		changed: make(chan struct{}), cancelled: map[string]time.Time{}}
	// One namespace, Portside's label only, no periodic resync: what the companion holds is the
	// Jobs and Pods of Portside's runs, not the cluster's (its resident memory is the point).
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = Selector }))
	jobInf := factory.Batch().V1().Jobs()
	podInf := factory.Core().V1().Pods()
	for _, inf := range []cache.SharedIndexInformer{jobInf.Informer(), podInf.Informer()} {
		// Managed fields are the larger part of an object and nothing here reads them.
		_ = inf.SetTransform(func(obj any) (any, error) {
			if m, ok := obj.(metav1.Object); ok {
				m.SetManagedFields(nil)
			}
			return obj, nil
		})
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    r.onEvent,
			UpdateFunc: func(_, obj any) { r.onEvent(obj) },
			DeleteFunc: r.onEvent,
		})
		r.synced = append(r.synced, inf.HasSynced)
	}
	r.jobs = jobInf.Lister().Jobs(ns)
	r.pods = podInf.Lister().Pods(ns)
	factory.Start(r.stop)
	// A cluster that cannot be listed yet does not fail the start: the companion also serves Argo
	// CD, which must not go down with it. Calls answer UNAVAILABLE until the informers have synced
	// (they keep trying, with client-go's backoff).
	ctx, cancel := context.WithTimeout(context.Background(), opts.SyncTimeout)
	defer cancel()
	if cache.WaitForCacheSync(ctx.Done(), r.synced...) {
		opts.Logger.Info("kubejobs: following Portside's Jobs", "namespace", ns)
	} else {
		opts.Logger.Warn("kubejobs: the Jobs and Pods could not be listed yet; runs are stale until they are", "namespace", ns, "waited", opts.SyncTimeout.String())
	}
	return r, nil
}

// Close stops the informers and ends every Changes call.
func (r *Runner) Close() error {
	r.once.Do(func() { close(r.stop) })
	return nil
}

// onEvent tells the subscribers which run changed and wakes those waiting for the cache.
func (r *Runner) onEvent(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	dispatch := m.GetLabels()[LabelDispatch]
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	subs := make([]*subscriber, 0, len(r.subs))
	for s := range r.subs {
		subs = append(subs, s)
	}
	r.mu.Unlock()
	if dispatch == "" {
		return
	}
	for _, s := range subs {
		s.fn(dispatch) // non-blocking: plugin.Server queues them
	}
}

// Changes calls fn with the dispatch ID of every run whose Jobs or Pods changed until ctx ends or
// the runner closes. fn must not block.
func (r *Runner) Changes(ctx context.Context, fn func(string)) error {
	s := &subscriber{fn: fn}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.subs, s)
		r.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return nil
	case <-r.stop:
		return errs.E(errs.Unavailable, "Kubernetes Jobs: the engine stopped")
	}
}

func (r *Runner) ready() error {
	for _, s := range r.synced {
		if !s() {
			return errs.E(errs.Unavailable, "Kubernetes Jobs: the Jobs and Pods of namespace %s are not listed yet (is the API server reachable, and may Portside list and watch jobs and pods there?)", r.ns)
		}
	}
	return nil
}

// observed reads a run's Jobs and Pods as the informers hold them.
func (r *Runner) observed(dispatch string) ([]*batchv1.Job, []*corev1.Pod, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelManagedBy: managedBy, LabelDispatch: dispatch})
	jobs, err := r.jobs.List(sel)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Internal, err, "kubejobs: list the cached Jobs")
	}
	pods, err := r.pods.List(sel)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Internal, err, "kubejobs: list the cached Pods")
	}
	return jobs, pods, nil
}

// waitFor waits until the cache shows the Job name (one just created), bounded by ctx: the state
// read right after a create must include it, or a run would look as if its Jobs were gone.
func (r *Runner) waitFor(ctx context.Context, name string) error {
	for {
		r.mu.Lock()
		changed := r.changed
		r.mu.Unlock()
		if _, err := r.jobs.Get(name); err == nil {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return errs.Wrap(errs.Unavailable, ctx.Err(), "Kubernetes Jobs: Job %s was created but not seen by the watch in time", name)
		case <-r.stop:
			return errs.E(errs.Unavailable, "Kubernetes Jobs: the engine stopped")
		}
	}
}

// create creates a stage's Job (AlreadyExists is fine: another call created it) and waits to see it.
func (r *Runner) create(ctx context.Context, run plugin.RunSpec, stage int) error {
	job, err := BuildJob(run, stage, r.ns)
	if err != nil {
		return err
	}
	_, err = r.client.BatchV1().Jobs(r.ns).Create(ctx, job, metav1.CreateOptions{FieldManager: "portside"})
	switch {
	case err == nil:
		r.log.Info("kubejobs: created a stage's Job", "run", run.RunID, "stage", run.Stages[stage].Name, "job", job.Name)
	case apierrors.IsAlreadyExists(err):
	default:
		return apiError(err, "create Job "+job.Name)
	}
	return r.waitFor(ctx, job.Name)
}

// Trigger creates the run's first Job.
func (r *Runner) Trigger(ctx context.Context, run plugin.RunSpec) (pipelines.Update, error) {
	if err := r.ready(); err != nil {
		return pipelines.Update{}, err
	}
	if len(run.Stages) == 0 {
		return pipelines.Update{}, errs.InvalidField("stages", "a pipeline without stages has nothing to run")
	}
	if err := r.create(ctx, run, 0); err != nil {
		return pipelines.Update{}, err
	}
	return r.Status(ctx, run)
}

// Status derives the run's state from its Jobs and Pods, and creates the next stage's Job when the
// one before it completed (see the comment at the top of this file for why here).
func (r *Runner) Status(ctx context.Context, run plugin.RunSpec) (pipelines.Update, error) {
	if err := r.ready(); err != nil {
		return pipelines.Update{}, err
	}
	if err := dispatchOK(run.DispatchID); err != nil {
		return pipelines.Update{}, err
	}
	for range len(run.Stages) + 1 { // at most one create per stage
		jobs, pods, err := r.observed(run.DispatchID)
		if err != nil {
			return pipelines.Update{}, err
		}
		d := Derive(run, jobs, pods, r.wasCancelled(run.DispatchID))
		if d.Next < 0 {
			return d.Update, nil
		}
		if err := r.create(ctx, run, d.Next); err != nil {
			if !errs.Is(err, errs.Invalid) {
				return pipelines.Update{}, err // unreachable or refused for now: the run is stale, read again later
			}
			// The stage's Job can never be created (its declaration builds an invalid Job): the
			// stage fails, and with it the run, rather than staying RUNNING for ever.
			u := d.Update
			u.Status = pipelines.Failed
			u.Stages[d.Next].Status = pipelines.Failed
			u.Message = truncate("stage "+run.Stages[d.Next].Name+": its Job was refused: "+errs.PublicMessage(err), maxMessage)
			return u, nil
		}
	}
	return pipelines.Update{}, errs.E(errs.Internal, "kubejobs: run %d did not settle", run.RunID)
}

// Cancel deletes the run's Jobs with foreground propagation (their Pods are deleted first). The
// Jobs are listed from the API server rather than the cache, so that one created a moment ago
// goes too.
func (r *Runner) Cancel(ctx context.Context, run plugin.RunSpec) error {
	if err := dispatchOK(run.DispatchID); err != nil {
		return err
	}
	r.markCancelled(run.DispatchID)
	sel := labels.SelectorFromSet(labels.Set{LabelManagedBy: managedBy, LabelDispatch: run.DispatchID}).String()
	list, err := r.client.BatchV1().Jobs(r.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return apiError(err, "list the run's Jobs")
	}
	fg := metav1.DeletePropagationForeground
	for _, j := range list.Items {
		err := r.client.BatchV1().Jobs(r.ns).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &fg})
		if err != nil && !apierrors.IsNotFound(err) {
			return apiError(err, "delete Job "+j.Name)
		}
	}
	r.log.Info("kubejobs: cancelled a run", "run", run.RunID, "jobs", len(list.Items))
	return nil
}

func (r *Runner) markCancelled(dispatch string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if len(r.cancelled) >= maxCancelled {
		for k, at := range r.cancelled {
			if now.Sub(at) > cancelledFor || len(r.cancelled) >= maxCancelled {
				delete(r.cancelled, k)
			}
		}
	}
	r.cancelled[dispatch] = now
}

func (r *Runner) wasCancelled(dispatch string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.cancelled[dispatch]
	return ok
}

// apiError maps an API server's refusal to Portside's codes: a Job the API server finds invalid
// is the declaration's fault (INVALID); anything else (unreachable, Portside's service account
// not allowed, the namespace missing) is the provider being unable to serve (UNAVAILABLE), not the
// caller's: the message says which.
func apiError(err error, what string) error {
	switch {
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		// The API server's text names the field of the Job at fault; it holds no credentials.
		return errs.Wrap(errs.Invalid, err, "Kubernetes Jobs: %s: %s", what, truncate(err.Error(), maxMessage))
	case apierrors.IsAlreadyExists(err), apierrors.IsConflict(err):
		return errs.Wrap(errs.Conflict, err, "Kubernetes Jobs: %s: %s", what, apierrors.ReasonForError(err))
	}
	return errs.Wrap(errs.Unavailable, err, "Kubernetes Jobs: %s: %s", what, apierrors.ReasonForError(err))
}
