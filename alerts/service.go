package alerts

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
)

// Catalog is what the alerts domain reads from the catalog; catalog.Service implements it.
type Catalog interface {
	// Find pages through entities (the components that declare an alert label selector).
	Find(ctx context.Context, q catalog.Query) (catalog.Page, error)
	// CacheEpoch moves whenever the catalog changes: the selectors are read again then.
	CacheEpoch(ctx context.Context) (int64, bool)
	EntitiesByRef(ctx context.Context, refs []backstage.Ref) (map[backstage.Ref]*backstage.Entity, error)
	// Owns says whether p owns the entity ref names (through the group hierarchy).
	Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error)
}

// Canaries is what the alerts domain asks the rollouts: whether a component's canary is under
// way, and to abort it (the rollouts' own action: it checks the caller owns the component and
// audits). rollouts.Service implements it.
type Canaries interface {
	Deployments(ctx context.Context, annotations map[string]string) ([]rollouts.Deployment, error)
	Abort(ctx context.Context, t rollouts.Target) (rollouts.Deployment, error)
}

// Runbooks is where the runbooks of a component are found; runbooks.Service implements it.
type Runbooks interface {
	EntityLinks(ctx context.Context, e *backstage.Entity, environment string) ([]runbooks.EntityLink, runbooks.Grafana, error)
	ForEntity(ctx context.Context, ref string) ([]runbooks.Runbook, error)
}

// Options wire the service.
type Options struct {
	Catalog Catalog
	// Canaries, when set, tell which alerts fired during a canary and abort it.
	Canaries Canaries
	// Runbooks, when set, answer which runbook an alert rule has besides its runbook_url.
	Runbooks Runbooks
	// Audit records every delivery that was taken in; nil records nothing (tests of the domain).
	Audit  *audit.Log
	Logger *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Service takes Alertmanager's deliveries in and answers what each alert means for its
// component.
type Service struct {
	recs     *records
	catalog  Catalog
	canaries Canaries
	books    Runbooks
	audit    *audit.Log
	log      *slog.Logger
	now      func() time.Time

	// The components' selectors, read again when the catalog's epoch moves: a delivery of 100
	// alerts must not read the catalog 100 times.
	mu        sync.Mutex
	epoch     int64
	selectors []componentSelector
}

// componentSelector is one component's alert label selector.
type componentSelector struct {
	ref         string
	selector    Selector
	annotations map[string]string
}

// NewService keeps alerts in st.
func NewService(st *store.Store, opts Options) *Service {
	s := &Service{recs: &records{st: st}, catalog: opts.Catalog, canaries: opts.Canaries, books: opts.Runbooks,
		audit: opts.Audit, log: opts.Logger, now: opts.Now, epoch: -1}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// MaxSelectorComponents bounds the components with a selector that are read.
const MaxSelectorComponents = 10000

// componentSelectors returns the selectors of every component that declares one, most specific
// (most labels) first, then by ref: when several match an alert, the most specific wins.
func (s *Service) componentSelectors(ctx context.Context) ([]componentSelector, error) {
	epoch, _ := s.catalog.CacheEpoch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch == s.epoch && s.selectors != nil {
		return s.selectors, nil
	}
	out := []componentSelector{}
	q := catalog.Query{Filter: catalog.Filter{Kinds: []string{backstage.KindComponent},
		Annotations: []catalog.AnnotationFilter{{Key: AnnotationAlertLabelSelector}}}, First: catalog.MaxPageSize}
	for {
		page, err := s.catalog.Find(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Entities {
			sel, err := ParseSelector(e.Metadata.Annotations[AnnotationAlertLabelSelector])
			if err != nil {
				// A broken selector maps nothing; the catalog check names it when the entry is read.
				s.log.DebugContext(ctx, "alerts: selector", "component", e.Ref.String(), "error", err)
				continue
			}
			out = append(out, componentSelector{ref: e.Ref.String(), selector: sel, annotations: e.Metadata.Annotations})
		}
		after, more := page.NextAfter()
		if !more || len(out) >= MaxSelectorComponents {
			break
		}
		q.After = after
	}
	slices.SortStableFunc(out, func(a, b componentSelector) int {
		if len(a.selector) != len(b.selector) {
			return len(b.selector) - len(a.selector)
		}
		return strings.Compare(a.ref, b.ref)
	})
	s.epoch, s.selectors = epoch, out
	return out, nil
}

// CheckSelectorAnnotation validates a grafana/alert-label-selector annotation; the catalog runs
// it on every document (registered in cmd/portside).
func CheckSelectorAnnotation(value string, _ map[string]string) []backstage.AnnotationProblem {
	if _, err := ParseSelector(value); err != nil {
		return []backstage.AnnotationProblem{{Line: 1, Message: errs.PublicMessage(err)}}
	}
	return nil
}

// CheckRemediationAnnotation validates a portside.dev/alert-remediation annotation.
func CheckRemediationAnnotation(value string, _ map[string]string) []backstage.AnnotationProblem {
	if _, err := ParseRemediation(value); err != nil {
		return []backstage.AnnotationProblem{{Line: 1, Message: errs.PublicMessage(err)}}
	}
	return nil
}

// Result says what a delivery did.
type Result struct {
	Firing, Resolved int
	// Unmapped counts the alerts no component's selector matched (recorded all the same).
	Unmapped int
	// DuringCanary counts the firing alerts of components whose canary was under way.
	DuringCanary int
}

// sender is who deliveries are recorded as: Alertmanager, proven by the webhook's credential. It
// is no admin: taking a delivery in checks no permission, and nothing else runs as it.
var sender = &principal.Principal{Username: "alertmanager", Kind: principal.KindSystem, Client: principal.ClientAPI}

// Receive records a delivery's alerts against their components: a firing alert is recorded once
// per fingerprint and start (deliveries repeat it), a resolved one closes it. The caller has
// proven the delivery comes from Alertmanager. Audited, one record per delivery.
func (s *Service) Receive(ctx context.Context, p Payload) (Result, error) {
	var res Result
	ctx = principal.With(ctx, sender)
	entry := audit.Entry{Action: "alerts.webhook.alertmanager", Resource: "alert group " + clip(p.GroupKey, 200),
		Args: map[string]any{"receiver": clip(p.Receiver, 200), "status": clip(p.Status, 20), "alerts": len(p.Alerts), "truncatedAlerts": p.TruncatedAlerts}}
	if len(p.Refused) > 0 {
		refused := make([]string, 0, min(len(p.Refused), 10))
		for _, r := range p.Refused[:min(len(p.Refused), 10)] {
			refused = append(refused, clip(errs.PublicMessage(r.Err), 200))
		}
		entry.Args["refused"], entry.Args["refusedFirst"] = len(p.Refused), refused
	}
	err := s.audited(ctx, entry, func(ctx context.Context) error {
		rows, r, err := s.rowsOf(ctx, p)
		if err != nil {
			return err
		}
		res = r
		entry.Args["firing"], entry.Args["resolved"], entry.Args["unmapped"] = r.Firing, r.Resolved, r.Unmapped
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			if err := s.recs.upsert(ctx, rows); err != nil {
				return err
			}
			return audit.Flush(ctx)
		})
	})
	return res, err
}

// rowsOf maps a delivery's alerts to components and canaries, one row per fingerprint and start
// (the last of a delivery wins).
func (s *Service) rowsOf(ctx context.Context, p Payload) ([]alertRow, Result, error) {
	var res Result
	sels, err := s.componentSelectors(ctx)
	if err != nil {
		return nil, res, err
	}
	now := s.now().UTC()
	canaryOf := map[string]*CanaryRef{} // by component, asked once per delivery
	type key struct {
		fp string
		at time.Time
	}
	index := map[key]int{}
	rows := make([]alertRow, 0, len(p.Alerts))
	for _, a := range p.Alerts {
		// PostgreSQL keeps microseconds: the same start must compare equal in either database.
		start := a.StartsAt.UTC().Truncate(time.Microsecond)
		row := alertRow{Fingerprint: a.Fingerprint, StartsAt: start, Rule: a.Labels[LabelAlertName], Status: string(Firing),
			Severity: clip(a.Labels["severity"], 100), Summary: clip(summaryOf(a), 1000), Labels: jsonMap(a.Labels),
			Annotations: jsonMap(a.Annotations), GeneratorURL: a.GeneratorURL, ReceivedAt: now, UpdatedAt: now}
		if a.Status == "resolved" {
			row.Status = string(Resolved)
			end := a.EndsAt.UTC().Truncate(time.Microsecond)
			if a.EndsAt.IsZero() {
				end = now
			}
			row.EndsAt = &end
			res.Resolved++
		} else {
			res.Firing++
		}
		for _, cs := range sels {
			if cs.selector.Matches(a.Labels) {
				row.Component = cs.ref
				if row.Status == string(Firing) {
					c, ok := canaryOf[cs.ref]
					if !ok {
						c = s.canaryUnderWay(ctx, cs.ref, cs.annotations)
						canaryOf[cs.ref] = c
					}
					if c != nil {
						row.CanaryInstance, row.CanaryNamespace, row.CanaryApp = c.Instance, c.AppNamespace, c.Application
						res.DuringCanary++
					}
				}
				break
			}
		}
		if row.Component == "" {
			res.Unmapped++
		}
		k := key{row.Fingerprint, row.StartsAt}
		if i, ok := index[k]; ok {
			rows[i] = row
			continue
		}
		index[k] = len(rows)
		rows = append(rows, row)
	}
	return rows, res, nil
}

// canaryUnderWay is the component's deployment whose canary is under way, nil when none is (or
// the rollouts cannot say: the alert is recorded without it rather than lost).
func (s *Service) canaryUnderWay(ctx context.Context, ref string, annotations map[string]string) *CanaryRef {
	if s.canaries == nil {
		return nil
	}
	deps, err := s.canaries.Deployments(ctx, annotations)
	if err != nil {
		s.log.DebugContext(ctx, "alerts: deployments", "component", ref, "error", err)
		return nil
	}
	for _, d := range deps {
		if c := d.Canary; c != nil && !c.Aborted && !c.Done() {
			return &CanaryRef{Instance: d.Instance, AppNamespace: d.AppNamespace, Application: d.Application}
		}
	}
	return nil
}

// summaryOf is what an alert says of itself: its summary annotation, else its description.
func summaryOf(a PayloadAlert) string {
	if v := a.Annotations["summary"]; v != "" {
		return v
	}
	return a.Annotations["description"]
}

func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.audit == nil {
		return fn(ctx)
	}
	return s.audit.Do(ctx, e, fn)
}

func what(id int64) string { return "alert " + strconv.FormatInt(id, 10) }

// signedIn refuses anonymous readers: alerts are readable by every signed-in user, as the catalog is.
func signedIn(ctx context.Context) error {
	if principal.From(ctx) == nil {
		return errs.E(errs.Unauthenticated, "sign in to read alerts")
	}
	return nil
}

// Alert returns one alert.
func (s *Service) Alert(ctx context.Context, id int64) (Alert, error) {
	if err := signedIn(ctx); err != nil {
		return Alert{}, err
	}
	return s.recs.byID(ctx, id)
}

// ForComponent returns up to first (1 to MaxPage) of a component's alerts, newest first.
func (s *Service) ForComponent(ctx context.Context, ref string, f Filter, first int) ([]Alert, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if first < 0 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 0 and %d, got %d", MaxPage, first)
	}
	if f.Status != "" && f.Status != Firing && f.Status != Resolved {
		return nil, errs.InvalidField("status", "%q is neither FIRING nor RESOLVED", clip(string(f.Status), 20))
	}
	return s.recs.forComponent(ctx, ref, f, first)
}

// ForRollout returns the alerts that fired during a rollout's canary, oldest first, at most
// MaxPage: those that fired while the application's canary was under way, from the rollout's
// start until its canary completed (until; nil while it has not). The sync itself ends long
// before the canary does, so its end is no bound.
func (s *Service) ForRollout(ctx context.Context, k rollouts.Key, since time.Time, until *time.Time) ([]Alert, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	return s.recs.forCanary(ctx, CanaryRef{Instance: k.Instance, AppNamespace: k.Namespace, Application: k.Name}, since, until)
}

// AbortCanary aborts the canary an alert fired during, through the rollouts' abort: the
// component's owners (and admins) may; the rollouts audit it, with the alert as the cause.
//
// A request refused before it reaches the rollouts (no such alert, an alert that fired outside a
// canary, no Argo CD) is audited here, as the same action: every mutation leaves one record.
func (s *Service) AbortCanary(ctx context.Context, id int64) (rollouts.Deployment, error) {
	refused := func(err error) (rollouts.Deployment, error) {
		if s.audit != nil {
			_ = s.audit.Do(ctx, audit.Entry{Action: string(policy.DeploymentAbort), Resource: what(id), Args: map[string]any{"alert": id}},
				func(context.Context) error { return err })
		}
		return rollouts.Deployment{}, err
	}
	if err := signedIn(ctx); err != nil {
		return refused(err)
	}
	if s.canaries == nil {
		return refused(errs.E(errs.Unavailable, "Portside follows no Argo CD instance here"))
	}
	p := principal.From(ctx)
	if err := policy.Gate(p, policy.DeploymentAbort); err != nil {
		return refused(err)
	}
	a, err := s.recs.byID(ctx, id)
	if err != nil {
		return refused(err)
	}
	// Whose canary it is comes before whether there is one: a caller who may not abort the
	// component's canaries learns no more of its alert than a refusal (the rollouts check again).
	owns := p.Admin
	if !owns && a.Component != "" {
		if owns, err = s.catalog.Owns(ctx, p, a.Component); err != nil {
			return refused(err)
		}
	}
	if err := policy.Can(p, policy.DeploymentAbort, policy.Resource{Name: cmp.Or(a.Component, what(id)), OwnedByCaller: owns}); err != nil {
		return refused(err)
	}
	if a.Canary == nil || a.Component == "" {
		return refused(errs.E(errs.Conflict, "%s (%s) did not fire during a canary of its component: there is no canary to abort from it", what(id), a.Rule))
	}
	return s.canaries.Abort(ctx, rollouts.Target{Component: a.Component, Instance: a.Canary.Instance,
		AppNamespace: a.Canary.AppNamespace, Application: a.Canary.Application, Cause: what(id) + " " + a.Rule})
}
