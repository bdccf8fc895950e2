package rollouts

import (
	"context"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// Components finds a catalog component's annotations by its ref; the catalog provides it.
type Components func(ctx context.Context, ref string) (map[string]string, error)

// Service answers what is deployed where and how each rollout went.
type Service struct {
	tracker    *Tracker
	recs       *records
	components Components
}

// MaxComponents bounds how many components one rollouts query may name.
const MaxComponents = 100

// NewService tracks sources and records their rollouts in st. components resolves the component
// refs a rollouts filter names.
func NewService(st *store.Store, sources []Source, components Components, opts TrackerOptions) *Service {
	recs := &records{st: st}
	return &Service{tracker: newTracker(recs, sources, opts), recs: recs, components: components}
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
	m, ok, err := matcher(annotations)
	if err != nil {
		return nil, err
	}
	f.Keys = []Key{}
	if ok {
		f.Keys = s.tracker.Keys(m)
	}
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
			ann, err := s.components(ctx, ref)
			if err != nil {
				return nil, err
			}
			m, ok, err := matcher(ann)
			if err != nil {
				return nil, err
			}
			if ok {
				f.Keys = append(f.Keys, s.tracker.Keys(m)...)
			}
		}
	}
	return s.recs.list(ctx, f, first, after)
}

// Rollout returns one rollout by ID.
func (s *Service) Rollout(ctx context.Context, id int64) (Rollout, error) {
	return s.recs.byID(ctx, id)
}

// Instances reports the link to each Argo CD instance.
func (s *Service) Instances() []InstanceStatus { return s.tracker.Instances() }

// Watch delivers the changes of a component's deployments (deployments true) or rollouts until
// ctx ends.
func (s *Service) Watch(ctx context.Context, annotations map[string]string, deployments bool) (*Subscription, error) {
	m, ok, err := matcher(annotations)
	if err != nil {
		return nil, err
	}
	return s.tracker.Subscribe(ctx, func(c Change) bool {
		if !ok {
			return false
		}
		if deployments {
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
	}), nil
}
