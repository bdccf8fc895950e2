package rollouts

import (
	"context"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/store"
)

// Catalog is what the rollouts domain reads from the catalog; catalog.Service implements it.
type Catalog interface {
	// ComponentAnnotations finds a component by a reference a client typed (field names the
	// input in errors) and returns its canonical ref and annotations.
	ComponentAnnotations(ctx context.Context, field, ref string) (string, map[string]string, error)
	// Owns reports whether p owns the entity, directly or through the group hierarchy.
	Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error)
	// ComponentsIn returns the annotations of a system's components, or of those a group (or a
	// group below it) owns, that carry one of keys, by component ref.
	ComponentsIn(ctx context.Context, field, ref string, keys []string) (map[string]map[string]string, error)
}

// LeadTimeSource measures lead time for changes where components build and deploy through
// Portside's pipelines (package pipelines' Service): commit to a successful Deploy stage.
type LeadTimeSource interface {
	// Annotation marks the components that may have such runs (their pipeline declarations).
	Annotation() string
	// LeadTimes gives, per component ref (nil: every component), the lead times of the changes
	// deployed in [since, until); components without any are absent.
	LeadTimes(ctx context.Context, components []string, since, until time.Time) (map[string][]time.Duration, error)
}

// Options wire the service.
type Options struct {
	Catalog Catalog
	// Audit records every action; nil records nothing (tests of the domain alone).
	Audit   *audit.Log
	Tracker TrackerOptions
	// Bus carries the rollouts recorded here to the other replicas and theirs here (subscribers
	// and stamps on every replica); nil is a process alone.
	Bus bus.Bus
}

// Service answers what is deployed where and how each rollout went, and acts on deployments for
// their owners.
type Service struct {
	tracker *Tracker
	recs    *records
	catalog Catalog
	audit   *audit.Log
	sources map[string]Source
	// leadTimes, when set, measures lead time for the components whose pipelines deploy them.
	leadTimes LeadTimeSource
}

// UseLeadTimes makes DORA's lead time come from src for every component src has deploys of in
// the window, in place of its Argo CD rollouts'. Call it before serving.
func (s *Service) UseLeadTimes(src LeadTimeSource) { s.leadTimes = src }

// MaxComponents bounds how many components one rollouts query may name.
const MaxComponents = 100

// NewService tracks sources and records their rollouts in st.
func NewService(st *store.Store, sources []Source, opts Options) *Service {
	recs := &records{st: st}
	byName := make(map[string]Source, len(sources))
	for _, src := range sources {
		byName[src.Name()] = src
	}
	t := newTracker(recs, sources, opts.Tracker)
	if opts.Bus != nil {
		t.useBus(opts.Bus)
	}
	return &Service{tracker: t, recs: recs, catalog: opts.Catalog, audit: opts.Audit, sources: byName}
}

// Start follows the instances until Stop.
func (s *Service) Start(ctx context.Context) { s.tracker.Start(ctx) }

// Stop ends following them.
func (s *Service) Stop() { s.tracker.Stop() }

// Tracker is the service's tracker (for tests and benchmarks that watch it work).
func (s *Service) Tracker() *Tracker { return s.tracker }

// matcher compiles a component's Argo CD annotations; ok is false for a component without them.
func matcher(annotations map[string]string) (Matcher, bool, error) {
	sel, ok, err := SelectorOf(annotations)
	if err != nil || !ok {
		return Matcher{}, ok, err
	}
	m, err := sel.Compile()
	return m, err == nil, err
}

// keysOf returns the applications whose rollouts belong to a component, by its annotations: none
// (a non-nil empty list, which selects nothing) for a component without Argo CD annotations.
func (s *Service) keysOf(annotations map[string]string) ([]Key, error) {
	m, ok, err := matcher(annotations)
	if err != nil || !ok {
		return []Key{}, err
	}
	return s.tracker.Keys(m), nil
}

// Stamp versions a component's deployments and rollouts, by its annotations (see Stamp); take it
// before reading them. A component without Argo CD annotations has a stamp that stays fresh.
func (s *Service) Stamp(annotations map[string]string) Stamp {
	m, ok, err := matcher(annotations)
	if err != nil || !ok {
		return Stamp{constant: true} // no applications: nothing to change (broken ones answer an error)
	}
	return s.tracker.stamp(m)
}

// Fresh reports whether a stamp still holds: nothing it covers changed since it was taken.
func (s *Service) Fresh(st Stamp) bool {
	if st.constant {
		return true
	}
	return s.tracker.fresh(st)
}

// Deployments returns a component's deployments, by its annotations. A component without Argo CD
// annotations has none; one with broken annotations gets an error that names the annotation.
func (s *Service) Deployments(_ context.Context, annotations map[string]string) ([]Deployment, error) {
	m, ok, err := matcher(annotations)
	if err != nil || !ok {
		return nil, err
	}
	return s.tracker.Deployments(m), nil
}

// ComponentRollouts returns a page of a component's rollouts, newest first; f's Keys are set from
// the component's annotations.
func (s *Service) ComponentRollouts(ctx context.Context, annotations map[string]string, f Filter, first int, after string) (*Page, error) {
	keys, err := s.keysOf(annotations)
	if err != nil {
		return nil, err
	}
	f.Keys = keys
	return s.recs.list(ctx, f, first, after)
}

// Rollouts returns a page of rollouts across the catalog, newest first, optionally of the named
// components only.
func (s *Service) Rollouts(ctx context.Context, components []string, f Filter, first int, after string) (*Page, error) {
	if len(components) > MaxComponents {
		return nil, errs.InvalidField("components", "names %d components; at most %d", len(components), MaxComponents)
	}
	if components != nil {
		f.Keys = []Key{}
		for _, ref := range components {
			_, ann, err := s.catalog.ComponentAnnotations(ctx, "components", ref)
			if err != nil {
				return nil, err
			}
			keys, err := s.keysOf(ann)
			if err != nil {
				return nil, err
			}
			f.Keys = append(f.Keys, keys...)
		}
	}
	return s.recs.list(ctx, f, first, after)
}

// Rollout returns one rollout by ID.
func (s *Service) Rollout(ctx context.Context, id int64) (Rollout, error) {
	return s.recs.byID(ctx, id)
}

// RolloutOfRevision returns the newest recorded rollout of a revision (a manifest commit); ok is
// false when none was recorded. It is for Portside's own bookkeeping (a deploy request catching
// up with the rollout of its commit), not for callers.
func (s *Service) RolloutOfRevision(ctx context.Context, revision string) (Rollout, bool, error) {
	return s.recs.byRevision(ctx, revision)
}

// Instances reports the link to each Argo CD instance.
func (s *Service) Instances() []InstanceStatus { return s.tracker.Instances() }

// syncWindowsTimeout bounds asking an instance for an application's sync windows: a slow instance
// must not hold up a component page.
const syncWindowsTimeout = 3 * time.Second

// SyncWindows asks the deployment's instance which sync windows apply to it now. An instance that
// cannot be reached gives UNAVAILABLE; the caller decides whether that fails anything.
func (s *Service) SyncWindows(ctx context.Context, d Deployment) (SyncWindows, error) {
	src := s.sources[d.Instance]
	if src == nil {
		return SyncWindows{}, errs.E(errs.NotFound, "no Argo CD instance %q", d.Instance)
	}
	if d.Stale {
		return SyncWindows{}, errs.E(errs.Unavailable, "Argo CD %q cannot be reached right now", d.Instance)
	}
	ctx, cancel := context.WithTimeout(ctx, syncWindowsTimeout)
	defer cancel()
	return src.SyncWindows(ctx, d.Key())
}

// Watched says what a subscription follows.
type Watched int

// What a subscription can follow.
const (
	WatchDeployments Watched = iota // the component's deployments' states
	WatchRollouts                   // the component's rollouts as they are recorded and updated
)

// Watch delivers the changes of a component's deployments or rollouts until ctx ends. A component
// without Argo CD annotations has nothing to deliver, but the subscription stays open: the catalog
// may give it annotations later.
func (s *Service) Watch(ctx context.Context, component string, what Watched) (*Subscription, error) {
	sub, _, _, err := s.watch(ctx, component, what)
	return sub, err
}

// WatchDeploymentsNow is Watch(WatchDeployments) that also returns the component's deployments as
// tracked once the subscription has begun. A client that reads and then subscribes (or subscribes
// again after a lost connection) can miss a change made between the two; one that takes these
// first and then the subscription's changes misses none: every change after this read is on the
// channel, and one already on it when the read was made is no newer than what the read saw.
func (s *Service) WatchDeploymentsNow(ctx context.Context, component string) (*Subscription, []Deployment, error) {
	sub, m, ok, err := s.watch(ctx, component, WatchDeployments)
	if err != nil || !ok {
		return sub, nil, err
	}
	return sub, s.tracker.Deployments(m), nil
}

// watch subscribes, and returns the component's matcher (ok is false without Argo CD annotations).
func (s *Service) watch(ctx context.Context, component string, what Watched) (*Subscription, Matcher, bool, error) {
	_, annotations, err := s.catalog.ComponentAnnotations(ctx, "component", component)
	if err != nil {
		return nil, Matcher{}, false, err
	}
	m, ok, err := matcher(annotations)
	if err != nil {
		return nil, Matcher{}, false, err
	}
	sub := s.tracker.Subscribe(ctx, func(c Change) bool {
		if !ok {
			return false
		}
		if what == WatchDeployments {
			return c.Deployment != nil && m.Matches(&Application{Deployment: *c.Deployment, Labels: c.Labels})
		}
		if c.Rollout == nil {
			return false
		}
		if c.Labels != nil {
			return m.Matches(&Application{Deployment: Deployment{Instance: c.Rollout.Instance,
				AppNamespace: c.Rollout.Namespace, Application: c.Rollout.Name}, Labels: c.Labels})
		}
		return m.MatchesKey(c.Rollout.Key)
	})
	return sub, m, ok, nil
}

// ComponentDORA returns the DORA metrics of a component's deployments. Its lead time comes from
// its pipeline runs when it has deploys through them in the window (see UseLeadTimes).
func (s *Service) ComponentDORA(ctx context.Context, ref string, annotations map[string]string, since, until *time.Time) (Metrics, error) {
	w, err := WindowOf(since, until, time.Now())
	if err != nil {
		return Metrics{}, err
	}
	keys, err := s.keysOf(annotations)
	if err != nil {
		return Metrics{}, err
	}
	piped, err := s.pipelineLeadTimes(ctx, []string{ref}, w)
	if err != nil {
		return Metrics{}, err
	}
	return s.recs.dora(ctx, keys, w, leadTimesInstead(piped[ref], keys))
}

// ScopeDORA returns the DORA metrics of the deployments of a system's components, or of the
// components a group and the groups below it own (ref names the system or group). A component
// with broken Argo CD annotations is left out rather than failing its team's figures. Components
// with deploys through their pipelines in the window give their lead times from those.
func (s *Service) ScopeDORA(ctx context.Context, ref string, since, until *time.Time) (Metrics, error) {
	w, err := WindowOf(since, until, time.Now())
	if err != nil {
		return Metrics{}, err
	}
	wanted := []string{AnnotationAppName, AnnotationAppSelector}
	if s.leadTimes != nil {
		wanted = append(wanted, s.leadTimes.Annotation())
	}
	comps, err := s.catalog.ComponentsIn(ctx, "ref", ref, wanted)
	if err != nil {
		return Metrics{}, err
	}
	refs := make([]string, 0, len(comps))
	for r := range comps {
		refs = append(refs, r)
	}
	piped, err := s.pipelineLeadTimes(ctx, refs, w)
	if err != nil {
		return Metrics{}, err
	}
	lead := pipelineLeads{skip: map[Key]bool{}}
	seen := map[Key]bool{}
	keys := []Key{}
	for r, a := range comps {
		ks, err := s.keysOf(a)
		if err != nil {
			ks = nil
		}
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		if samples := piped[r]; len(samples) > 0 {
			lead.samples = append(lead.samples, samples...)
			for _, k := range ks {
				lead.skip[k] = true
			}
		}
	}
	return s.recs.dora(ctx, keys, w, lead)
}

// CatalogDORA returns the DORA metrics of every application Portside follows; the components
// with deploys through their pipelines in the window give their lead times from those.
func (s *Service) CatalogDORA(ctx context.Context, since, until *time.Time) (Metrics, error) {
	w, err := WindowOf(since, until, time.Now())
	if err != nil {
		return Metrics{}, err
	}
	piped, err := s.pipelineLeadTimes(ctx, nil, w)
	if err != nil {
		return Metrics{}, err
	}
	lead := pipelineLeads{skip: map[Key]bool{}}
	n := 0
	for ref, samples := range piped {
		lead.samples = append(lead.samples, samples...)
		if n++; n > maxPipedComponents {
			continue // their rollouts' lead times count too; a bound on the catalog reads below
		}
		_, anns, err := s.catalog.ComponentAnnotations(ctx, "ref", ref)
		if err != nil {
			continue // a component gone from the catalog keeps its history, and has no applications to skip
		}
		ks, _ := s.keysOf(anns)
		for _, k := range ks {
			lead.skip[k] = true
		}
	}
	return s.recs.dora(ctx, nil, w, lead)
}

// maxPipedComponents bounds the components CatalogDORA looks up to leave their applications'
// rollouts out of the lead time.
const maxPipedComponents = 5000

// pipelineLeadTimes asks the lead-time source, if any, about components (nil: all).
func (s *Service) pipelineLeadTimes(ctx context.Context, components []string, w Window) (map[string][]time.Duration, error) {
	if s.leadTimes == nil {
		return nil, nil
	}
	return s.leadTimes.LeadTimes(ctx, components, w.Since, w.Until)
}

// leadTimesInstead says to take samples as the lead times of the applications keys name, in
// place of their rollouts', when there are any.
func leadTimesInstead(samples []time.Duration, keys []Key) pipelineLeads {
	if len(samples) == 0 {
		return pipelineLeads{}
	}
	skip := make(map[Key]bool, len(keys))
	for _, k := range keys {
		skip[k] = true
	}
	return pipelineLeads{samples: samples, skip: skip}
}
