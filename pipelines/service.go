package pipelines

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/gitref"
	"github.com/portside-dev/portside/internal/pubsub"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/store"
)

// Catalog is what the pipelines domain reads from the catalog; catalog.Service implements it.
type Catalog interface {
	// ComponentAnnotations finds a component by a reference a client typed (field names the
	// input in errors) and returns its canonical ref and annotations.
	ComponentAnnotations(ctx context.Context, field, ref string) (string, map[string]string, error)
	// Owns reports whether p owns the entity, directly or through the group hierarchy.
	Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error)
}

// Options wire the service.
type Options struct {
	Catalog Catalog
	// Audit records every action; nil records nothing (tests of the domain alone).
	Audit     *audit.Log
	Providers []Provider
	Follower  FollowerOptions
	Logger    *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// StampCheckInterval overrides StampCheckInterval (tests); 0 is the default.
	StampCheckInterval time.Duration
	// Bus carries the runs' changes to the other replicas and theirs here (for subscribers and
	// stamps on every replica); nil is a process alone.
	Bus bus.Bus
	// Observer hears about finished runs and provider errors, for metrics; may be nil.
	Observer Observer
}

// Observer hears about runs, for metrics. Package metrics implements it.
type Observer interface {
	// PipelineRunFinished is told once per run, by the process that recorded its last status,
	// with how long it took from trigger to finish.
	PipelineRunFinished(provider, status string, d time.Duration)
	// PipelineProviderError is told each time the follower could not read a run from its provider.
	PipelineProviderError(provider string)
}

// Service triggers a component's pipelines for its owners and follows their runs.
type Service struct {
	recs      *records
	catalog   Catalog
	audit     *audit.Log
	providers map[string]Provider
	log       *slog.Logger
	now       func() time.Time
	hub       *pubsub.Hub[Run]
	bus       bus.Bus
	topic     *bus.Topic[Run]
	follow    FollowerOptions
	obs       Observer
	gens      *generations

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	nudge   chan struct{}
	started bool
}

// NewService keeps runs in st and runs them on providers.
func NewService(st *store.Store, opts Options) *Service {
	recs := &records{st: st}
	s := &Service{recs: recs, catalog: opts.Catalog, audit: opts.Audit, providers: map[string]Provider{},
		log: opts.Logger, now: opts.Now, hub: pubsub.NewHub[Run](64), follow: opts.Follower.withDefaults(), nudge: make(chan struct{}, 1), obs: opts.Observer}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, p := range opts.Providers {
		s.providers[p.Name()] = p
	}
	s.gens = &generations{interval: opts.StampCheckInterval, load: recs.generation}
	if s.gens.interval <= 0 {
		s.gens.interval = StampCheckInterval
	}
	s.bus = bus.Or(opts.Bus)
	s.topic = bus.NewTopic(s.bus, "pipelines.runs", bus.TopicOptions[Run]{
		Deliver: s.hub.Deliver,
		Shrink:  func(r Run) Run { return Run{ID: r.ID} }, // a run with many stages and artifacts
		Reload:  func(ctx context.Context, r Run) (Run, error) { return s.recs.byID(ctx, r.ID) },
		Logger:  s.log,
	})
	// Another replica's change retires this one's stamps at once; the generation row, read at
	// most once per StampCheckInterval, still catches what a lost message would miss.
	s.bus.Handle(changedTopic, func([]byte) { s.changed() })
	s.bus.HandleGap(s.changed)
	recs.changed = func(ctx context.Context) {
		s.bus.Publish(ctx, changedTopic, nil)
		store.AfterCommit(ctx, s.changed)
	}
	return s
}

// changedTopic tells the other replicas that a run changed (their stamps are stale). It is sent
// with the change's transaction, before the run's event (sent once the run is read back in it).
const changedTopic = "pipelines.changed"

// publish tells the other replicas of a run's change with the transaction that records it (ctx's),
// and this replica's subscribers once it commits: call it inside that transaction.
func (s *Service) publish(ctx context.Context, r Run) {
	s.topic.Publish(ctx, r)
	store.AfterCommit(ctx, func() { s.hub.Publish(r) })
}

// Input bounds.
const (
	MaxIdempotencyKey = 200
	MaxRef            = 255
	MaxParameters     = maxParameters
	MaxComponents     = 100
)

// refRE is what a ref to run may be made of, before git's own rules (gitref.Check): letters and
// digits of any script (git allows feature/ünïcode), and - _ . / + @, starting with a letter or a
// digit (never an option).
var refRE = regexp.MustCompile(`^[\p{L}\p{N}][-\p{L}\p{N}_./+@]*$`)

// ComponentPipelines returns the pipelines a component declares, by its canonical ref and
// annotations. A component without declarations has none; one whose stored declarations are
// invalid gets an INVALID error that names the field.
func (s *Service) ComponentPipelines(ref string, annotations map[string]string) ([]Pipeline, error) {
	decls, err := Declarations(annotations)
	if err != nil {
		return nil, err
	}
	out := make([]Pipeline, len(decls))
	for i, d := range decls {
		out[i] = Pipeline{Component: ref, Declaration: d}
	}
	return out, nil
}

// pipelineOf finds a component's pipeline by the names a client typed.
func (s *Service) pipelineOf(ctx context.Context, component, pipeline string) (string, Declaration, error) {
	ref, ann, err := s.catalog.ComponentAnnotations(ctx, "component", component)
	if err != nil {
		return "", Declaration{}, err
	}
	decls, err := Declarations(ann)
	if err != nil {
		return "", Declaration{}, err
	}
	for _, d := range decls {
		if d.Name == pipeline {
			return ref, d, nil
		}
	}
	names := make([]string, len(decls))
	for i, d := range decls {
		names[i] = d.Name
	}
	// NOT_FOUND naming pipeline, as a component the catalog lacks names component.
	if len(names) == 0 {
		return "", Declaration{}, &errs.Error{Code: errs.NotFound, Field: "pipeline",
			Message: fmt.Sprintf("%s declares no pipelines (annotation %s)", ref, AnnotationPipelines)}
	}
	return "", Declaration{}, &errs.Error{Code: errs.NotFound, Field: "pipeline",
		Message: fmt.Sprintf("%s has no pipeline %q; it declares %s", ref, pipeline, joinQuoted(names))}
}

// declarationOf is the declaration a run runs: the one it kept when it started, or, for a run
// recorded before runs kept theirs, the catalog's.
func (s *Service) declarationOf(ctx context.Context, run Run) (Declaration, error) {
	if run.Declaration != nil {
		return *run.Declaration, nil
	}
	_, decl, err := s.pipelineOf(ctx, run.Component, run.Pipeline)
	return decl, err
}

func joinQuoted(list []string) string {
	out := ""
	for i, s := range quoteAll(list) {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// authorize checks that the caller may take action on a component: its owners and admins may.
func (s *Service) authorize(ctx context.Context, action policy.Action, ref string) error {
	p := principal.From(ctx)
	if err := policy.Gate(p, action); err != nil {
		return err
	}
	owns := p.Admin
	if !owns {
		var err error
		if owns, err = s.catalog.Owns(ctx, p, ref); err != nil {
			return err
		}
	}
	return policy.Can(p, action, policy.Resource{Name: ref, OwnedByCaller: owns})
}

// audited runs fn as an audited action (or just runs it without an audit log).
func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.audit == nil {
		return fn(ctx)
	}
	return s.audit.Do(ctx, e, fn)
}

// TriggerInput is a request to run a pipeline.
type TriggerInput struct {
	Component string
	Pipeline  string
	// Ref is the branch, tag or SHA to run; "" is the declaration's default.
	Ref        string
	Parameters map[string]string
	// IdempotencyKey makes retried requests safe: a second trigger with the same key (for the
	// same pipeline) returns the first one's run and starts nothing.
	IdempotencyKey string
}

func (in TriggerInput) check() error {
	if err := text.Length("idempotencyKey", in.IdempotencyKey, MaxIdempotencyKey); err != nil {
		return err
	}
	if err := text.Length("ref", in.Ref, MaxRef); err != nil {
		return err
	}
	switch {
	case in.Ref != "" && !refRE.MatchString(in.Ref):
		return errs.InvalidField("ref", "%q is not a branch, tag or commit SHA", in.Ref)
	case len(in.Parameters) > MaxParameters:
		return errs.InvalidField("parameters", "gives %d parameters; at most %d", len(in.Parameters), MaxParameters)
	case in.Pipeline == "":
		return errs.InvalidField("pipeline", "is empty; name one of the component's pipelines")
	case in.Ref != "":
		return gitref.Check("ref", in.Ref) // "main..x" passes the characters, not git
	}
	return nil
}

// Trigger runs a component's pipeline, for its owners (and admins); audited. Parameters are
// checked against the declaration. With an idempotency key, the first trigger records the run (a
// unique index decides which, under any concurrency) and every later one returns that run.
func (s *Service) Trigger(ctx context.Context, in TriggerInput) (Run, error) {
	var out Run
	args := map[string]any{"component": in.Component, "pipeline": in.Pipeline, "ref": in.Ref,
		"parameters": in.Parameters, "idempotencyKey": in.IdempotencyKey}
	err := s.audited(ctx, audit.Entry{Action: string(policy.PipelineTrigger), Resource: "component " + in.Component, Args: args},
		func(ctx context.Context) error {
			if err := policy.Gate(principal.From(ctx), policy.PipelineTrigger); err != nil {
				return err
			}
			if err := in.check(); err != nil {
				return err
			}
			ref, decl, err := s.pipelineOf(ctx, in.Component, in.Pipeline)
			if err != nil {
				return err
			}
			if err := s.authorize(ctx, policy.PipelineTrigger, ref); err != nil {
				return err
			}
			params, err := decl.ResolveParameters(in.Parameters)
			if err != nil {
				return err
			}
			gitRef := in.Ref
			if gitRef == "" {
				gitRef = decl.Ref
			}
			out, err = s.start(ctx, ref, decl, gitRef, params, in.IdempotencyKey, nil, func(ctx context.Context, p Provider, req TriggerRequest) (Update, error) {
				return p.Trigger(ctx, req)
			})
			return err
		})
	return out, err
}

// start records a new run of decl and asks its provider to start it. A run the same key already
// started is returned as it is; one the key started with other inputs is a CONFLICT. A retry
// (retryOf) takes no key: a run has one retry (a unique index), and retrying it again returns
// that one. A run the provider did not start stays in the history, FAILED with why. When the
// provider refused it for certain (refusedForCertain), it also frees its key: the same request
// with the same key then tries again. When the outcome is unknown (the provider could not be
// reached, or its answer was lost: it may have started the run), the key keeps the attempt, so
// that a client's retry never starts the run twice.
func (s *Service) start(ctx context.Context, ref string, decl Declaration, gitRef string, params map[string]string, key string,
	retryOf *Run, call func(context.Context, Provider, TriggerRequest) (Update, error)) (Run, error) {
	prov := s.providers[decl.Provider]
	if prov == nil {
		return Run{}, errs.E(errs.Unavailable, "pipelines on %s are not configured on this Portside", decl.Provider)
	}
	p := principal.From(ctx)
	now := s.now().UTC()
	run := Run{Component: ref, Pipeline: decl.Name, Provider: decl.Provider, Ref: gitRef, Parameters: params,
		TriggeredBy: p.Actor(), IdempotencyKey: key, Status: Queued, CreatedAt: now, UpdatedAt: now, Artifacts: []Artifact{}}
	if p != nil {
		run.Client = string(p.Client)
	}
	if retryOf != nil {
		run.RetryOf = &retryOf.ID
		run.ProviderRunID, run.URL, run.CommitSHA, run.Attempt = retryOf.ProviderRunID, retryOf.URL, retryOf.CommitSHA, retryOf.Attempt
	}
	kept := decl
	run.Declaration = &kept
	run.Stages = orderStages(&decl, nil, nil)
	dispatch := newDispatchID()
	run.DispatchID = dispatch
	for attempt := 1; ; attempt++ {
		err := s.recs.insert(ctx, &run, dispatch)
		if err == nil {
			break
		}
		if (key == "" && retryOf == nil) || !errs.Is(err, errs.Conflict) {
			return Run{}, err
		}
		var first Run
		var ferr error
		if retryOf != nil {
			first, ferr = s.recs.byRetryOf(ctx, retryOf.ID)
		} else {
			first, ferr = s.recs.byKey(ctx, ref, decl.Name, key)
		}
		if errs.Is(ferr, errs.NotFound) && attempt == 1 {
			continue // the key's first run failed to start and freed it meanwhile: this one starts
		}
		if ferr != nil {
			return Run{}, ferr
		}
		if first.Ref != gitRef || !maps.Equal(first.Parameters, params) || !sameRetry(first.RetryOf, run.RetryOf) {
			return Run{}, errs.E(errs.Conflict, "idempotency key %q already started run %d of %s with other inputs; use a new key for a new request", key, first.ID, decl.Name)
		}
		return first, nil // the same request again: the same run, and nothing started
	}
	audit.Name(ctx, "", map[string]any{"run": run.ID}) // the record names the run it started
	req := TriggerRequest{RunID: run.ID, DispatchID: dispatch, Component: ref, Pipeline: decl, Ref: gitRef, Parameters: params}
	u, err := call(ctx, prov, req)
	if err != nil {
		// The attempt stays in the history, failed, with why; the caller hears the provider's error.
		run.Status, run.Message = Failed, "the provider did not start the run: "+errs.PublicMessage(err)
		if refusedForCertain(err) {
			run.IdempotencyKey = "" // freed with the failure, in the same write: see above
		}
		failFast(&run)
		fin := s.now().UTC()
		run.FinishedAt, run.UpdatedAt = &fin, fin
		wctx := context.WithoutCancel(ctx)
		serr := s.recs.st.InTx(wctx, func(ctx context.Context) error {
			if err := s.recs.save(ctx, &run); err != nil {
				return err
			}
			s.publish(ctx, run)
			return nil
		})
		if serr != nil {
			s.log.ErrorContext(ctx, "pipelines: record a run that did not start", "run", run.ID, "error", serr)
			s.publish(wctx, run) // unrecorded, as before: subscribers still hear why it failed
		} else {
			s.finished(Queued, run)
		}
		return Run{}, err
	}
	applyUpdate(&run, u, &decl, s.now().UTC())
	run.UpdatedAt = s.now().UTC()
	saved := false
	var latest Run
	err = s.recs.st.InTx(ctx, func(ctx context.Context) error {
		switch err := s.recs.save(ctx, &run); {
		case err == nil:
			saved = true
		case err != errStale:
			return err
		}
		var err error
		if latest, err = s.recs.byID(ctx, run.ID); err != nil { // the follower may have been quicker
			return err
		}
		s.publish(ctx, latest)
		return audit.Flush(ctx)
	})
	if err != nil {
		return Run{}, err
	}
	if saved {
		s.finished(Queued, run) // a provider that answers the trigger with the outcome
	}
	s.poke()
	return latest, nil
}

// refusedForCertain says whether a provider's error means it did not start the run: it refused
// the request (the workflow or project does not exist, the inputs or the token were refused).
// UNAVAILABLE and INTERNAL may come after the request reached the provider (a timeout, a reset
// connection, a 5xx), which may then have started it.
func refusedForCertain(err error) bool {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.NotFound, errs.Forbidden, errs.Unauthenticated, errs.Conflict:
		return true
	}
	return false
}

func sameRetry(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func newDispatchID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runAction loads a run and checks the caller may act on its component.
func (s *Service) runAction(ctx context.Context, action policy.Action, id int64) (Run, Declaration, error) {
	if err := policy.Gate(principal.From(ctx), action); err != nil {
		return Run{}, Declaration{}, err
	}
	run, err := s.recs.byID(ctx, id)
	if err != nil {
		return Run{}, Declaration{}, err
	}
	if err := s.authorize(ctx, action, run.Component); err != nil {
		return Run{}, Declaration{}, err
	}
	decl, err := s.declarationOf(ctx, run)
	if err != nil {
		return Run{}, Declaration{}, err
	}
	return run, decl, nil
}

// Cancel asks the provider to stop a run, for the component's owners; audited. A finished run
// cannot be cancelled (CONFLICT, saying how it ended).
func (s *Service) Cancel(ctx context.Context, id int64) (Run, error) {
	var out Run
	err := s.audited(ctx, audit.Entry{Action: string(policy.PipelineCancel), Resource: "pipeline run " + strconv.FormatInt(id, 10),
		Args: map[string]any{"id": id}}, func(ctx context.Context) error {
		run, decl, err := s.runAction(ctx, policy.PipelineCancel, id)
		if err != nil {
			return err
		}
		if !run.Active() {
			return errs.E(errs.Conflict, "pipeline run %d already finished (%s): nothing to cancel", id, run.Status)
		}
		prov := s.providers[run.Provider]
		if prov == nil {
			return errs.E(errs.Unavailable, "pipelines on %s are not configured on this Portside", run.Provider)
		}
		// A provider that no longer knows a run it had named (a local run whose process ended)
		// has nothing to stop: reading it records why it ended, not an error that leaves it
		// running. One still being started is not known yet: that is no end.
		if err := prov.Cancel(ctx, run, decl); err != nil && (!errs.Is(err, errs.NotFound) || run.ProviderRunID == "") {
			return err
		}
		out, err = s.refresh(ctx, run, decl, true)
		return err
	})
	return out, err
}

// Retry runs a failed, cancelled or timed-out run again as a new run linked to it, for the
// component's owners; audited. The retry runs what the run ran (its declaration as it started,
// its ref and parameters), whatever the catalog declares since: trigger the pipeline to run it as
// declared now. A run is retried once: retrying it again (even concurrently) returns that retry;
// retry the retry to go on.
func (s *Service) Retry(ctx context.Context, id int64) (Run, error) {
	var out Run
	err := s.audited(ctx, audit.Entry{Action: string(policy.PipelineRetry), Resource: "pipeline run " + strconv.FormatInt(id, 10),
		Args: map[string]any{"id": id}}, func(ctx context.Context) error {
		run, decl, err := s.runAction(ctx, policy.PipelineRetry, id)
		if err != nil {
			return err
		}
		if run.Status != Failed && run.Status != Cancelled && run.Status != TimedOut {
			return errs.E(errs.Conflict, "pipeline run %d is %s; only failed, cancelled or timed-out runs are retried", id, run.Status)
		}
		out, err = s.start(ctx, run.Component, decl, run.Ref, run.Parameters, "", &run,
			func(ctx context.Context, p Provider, req TriggerRequest) (Update, error) {
				return p.Retry(ctx, run, req)
			})
		return err
	})
	return out, err
}

// Run returns one run by ID. Runs are readable by every signed-in user, as the catalog is.
func (s *Service) Run(ctx context.Context, id int64) (Run, error) {
	return s.recs.byID(ctx, id)
}

// Runs returns a page of runs, newest first. A Filter.Component is a reference as the client
// typed it.
func (s *Service) Runs(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if f.Component != "" {
		ref, _, err := s.catalog.ComponentAnnotations(ctx, "filter.component", f.Component)
		if err != nil {
			return nil, err
		}
		f.Component = ref
	}
	return s.recs.list(ctx, f, first, after)
}

// LeadTimes answers DORA's lead time for changes from pipeline runs: per component (canonical
// refs; nil asks for every component), the time from a run's commit to its successful Deploy
// stage, for the runs deployed in [since, until) whose provider reported the commit's time.
// Components without such runs are absent. Like runs, these are readable by every signed-in user.
func (s *Service) LeadTimes(ctx context.Context, components []string, since, until time.Time) (map[string][]time.Duration, error) {
	return s.recs.leadTimes(ctx, components, since, until)
}

// RunStats are the pipeline runs of a set of components that finished in a period.
type RunStats struct {
	// Runs counts the runs that finished; Succeeded those among them that succeeded.
	Runs, Succeeded int
	// MedianDuration is the median time from start to finish of the successful runs; nil when
	// none succeeded.
	MedianDuration *time.Duration
}

// RunStats counts and measures the runs of components (canonical refs) that finished in
// [since, until), for status-meeting reports; at most the newest 20,000 are read.
func (s *Service) RunStats(ctx context.Context, components []string, since, until time.Time) (RunStats, error) {
	if principal.From(ctx) == nil {
		return RunStats{}, errs.E(errs.Unauthenticated, "sign in to read pipeline runs")
	}
	return s.recs.runStats(ctx, components, since, until)
}

// Annotation is the annotation that declares a component's pipelines: the components that may
// have lead times here.
func (s *Service) Annotation() string { return AnnotationPipelines }

// PipelineRuns returns a page of one pipeline's runs, newest first (component is canonical).
func (s *Service) PipelineRuns(ctx context.Context, component, pipeline string, f Filter, first int, after string) (*Page, error) {
	f.Component, f.Pipeline = component, pipeline
	return s.recs.list(ctx, f, first, after)
}

// Watch delivers every change of the runs match selects until ctx ends or the subscriber falls
// behind. A Filter.Component is a reference as the client typed it.
func (s *Service) Watch(ctx context.Context, f Filter, runID int64) (*Subscription, error) {
	if f.Component != "" {
		ref, _, err := s.catalog.ComponentAnnotations(ctx, "component", f.Component)
		if err != nil {
			return nil, err
		}
		f.Component = ref
	}
	return s.hub.Subscribe(ctx, func(r Run) bool {
		return (runID == 0 || r.ID == runID) && (f.Component == "" || r.Component == f.Component) &&
			(f.Pipeline == "" || r.Pipeline == f.Pipeline)
	}), nil
}

// Subscribers counts the open subscriptions (tests wait for a subscription to be registered).
func (s *Service) Subscribers() int {
	return s.hub.Len()
}

// refresh asks the provider about one run and records what changed; force publishes the run even
// when nothing did (the caller answers with it).
func (s *Service) refresh(ctx context.Context, run Run, decl Declaration, force bool) (Run, error) {
	prov := s.providers[run.Provider]
	if prov == nil {
		return run, errs.E(errs.Unavailable, "pipelines on %s are not configured on this Portside", run.Provider)
	}
	u, err := prov.Status(ctx, run, decl)
	switch {
	case errs.Is(err, errs.NotFound) && run.ProviderRunID == "":
		u = Update{} // being started: its trigger has not recorded the provider's answer yet
	case errs.Is(err, errs.NotFound):
		// The engine forgot the run (the local runner restarted, the run was deleted): it will
		// never finish, and history says so.
		u = Update{Status: Failed, Message: "the provider no longer knows this run: " + errs.PublicMessage(err)}
	case err != nil:
		return run, err
	}
	if u.ProviderRunID == "" && run.ProviderRunID == "" && run.Status == Queued && s.now().Sub(run.CreatedAt) > s.follow.FindTimeout {
		u = Update{Status: TimedOut, Message: "the provider did not show the run it was asked to start within " + s.follow.FindTimeout.String()}
	}
	was := run.Status
	if applyUpdate(&run, u, &decl, s.now().UTC()) {
		run.UpdatedAt = s.now().UTC()
		err := s.recs.st.InTx(ctx, func(ctx context.Context) error {
			if err := s.recs.save(ctx, &run); err != nil {
				return err
			}
			s.publish(ctx, run)
			return nil
		})
		switch {
		case err == errStale:
			// Someone recorded a newer state meanwhile: that one stands (the next poll reads on).
			return s.recs.byID(ctx, run.ID)
		case err != nil:
			return run, err
		}
		s.finished(was, run)
	} else if force {
		return s.recs.byID(ctx, run.ID)
	}
	return run, nil
}

// finished tells the observer about a run this process just recorded as done, having read it
// not done (was): a stale save never gets here, so each run is told once across replicas.
func (s *Service) finished(was Status, run Run) {
	if s.obs == nil || was.Done() || !run.Status.Done() {
		return
	}
	end := run.UpdatedAt
	if run.FinishedAt != nil {
		end = *run.FinishedAt
	}
	s.obs.PipelineRunFinished(run.Provider, string(run.Status), max(end.Sub(run.CreatedAt), 0))
}

// Nudge makes the follower look at a provider's run now (a webhook said it changed); it returns
// once the run is read again. Runs Portside did not start are ignored.
func (s *Service) Nudge(ctx context.Context, provider, providerRunID string) error {
	runs, err := s.recs.byProviderRun(ctx, provider, providerRunID)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		// A run whose provider ID is not known yet (GitHub's dispatch): the follower finds it.
		s.poke()
		return nil
	}
	run := runs[0]
	if !run.Active() {
		return nil
	}
	decl, err := s.declarationOf(ctx, run)
	if err != nil {
		return err
	}
	_, err = s.refresh(ctx, run, decl, false)
	return err
}

// Subscription receives runs as they change until it is closed.
type Subscription = pubsub.Subscription[Run]
