package rollouts

import "time"

// Resource names one Kubernetes resource of an application.
type Resource struct {
	Group, Version, Kind, Namespace, Name string
}

// IsArgoRollout reports whether the resource is an Argo Rollouts Rollout.
func (r Resource) IsArgoRollout() bool { return r.Group == "argoproj.io" && r.Kind == "Rollout" }

// Canary is the progressive delivery state of an Argo Rollouts Rollout, as its live object says.
type Canary struct {
	// Resource is the Rollout resource.
	Resource Resource
	// Strategy is "canary" or "blueGreen".
	Strategy string
	Steps    []CanaryStep
	// CurrentStep is the index of the step under way; len(Steps) once every step is done.
	CurrentStep int
	// SetWeight is the canary's share the steps have set so far (the last setWeight at or before
	// the current step), in percent; ActualWeight the share of the canary's pods among all, where
	// known.
	SetWeight    int
	ActualWeight *int
	// Phase is Argo Rollouts' phase: Progressing, Paused, Healthy, Degraded.
	Phase string
	// PausedReason says why it waits (CanaryPauseStep, BlueGreenPause, ...), while it does.
	PausedReason string
	// Aborted is set once the rollout was aborted (by a person or a failed analysis): the stable
	// version runs again.
	Aborted bool
	Message string
	// Analysis are the verdicts of the AnalysisRuns of the current step and the background one.
	Analysis []AnalysisVerdict
	// StableRevision and CanaryRevision are the pod template hashes of the stable (blue-green:
	// active) and the new version (equal once the rollout is done).
	StableRevision, CanaryRevision string
	// BlueGreen is set for the blue-green strategy.
	BlueGreen *BlueGreen
}

// BlueGreen is what a blue-green Rollout adds: the services that send traffic to the active and
// the preview version, and whether the preview is promoted without a person.
type BlueGreen struct {
	ActiveService, PreviewService string
	AutoPromotion                 bool
}

// Done reports whether the rollout has nothing left to do: every step has run (blue-green: the
// new version is the active one).
func (c *Canary) Done() bool {
	if c.Aborted {
		return false
	}
	if c.Strategy == "blueGreen" {
		return c.CanaryRevision == c.StableRevision && c.PausedReason == ""
	}
	return c.CurrentStep >= len(c.Steps)
}

// CanaryStep is one step of a canary strategy.
type CanaryStep struct {
	// Kind is setWeight, pause, analysis, experiment or another step kind.
	Kind string
	// Weight is the weight a setWeight step sets.
	Weight *int
	// Pause is how long a pause step waits ("10s"); "" for a pause until promoted.
	Pause string
}

// AnalysisVerdict is how an AnalysisRun judged the canary.
type AnalysisVerdict struct {
	Name string
	// Phase is Argo Rollouts' analysis phase: Pending, Running, Successful, Failed, Error,
	// Inconclusive.
	Phase   string
	Message string
}

// CanaryProgress is what a rollout record keeps of a canary: each step as it was reached, and how
// it ended.
type CanaryProgress struct {
	Strategy string            `json:"strategy"`
	Steps    []CanaryStep      `json:"steps"`
	Reached  []StepReached     `json:"reached"`
	Aborted  bool              `json:"aborted,omitempty"`
	Analysis []AnalysisVerdict `json:"analysis,omitempty"`
	// Completed is when the last step was done.
	Completed *time.Time `json:"completed,omitempty"`
}

// Done reports whether the canary ran every step and was not aborted: nothing of it is left to
// roll out. A sync succeeds as soon as Argo CD applied the Rollout, its canary often at its first
// step, so a rollout is over only once its canary is done too.
func (p *CanaryProgress) Done() bool { return p != nil && !p.Aborted && p.Completed != nil }

// StepReached is a step the canary got to, with its weight then.
type StepReached struct {
	Step   int       `json:"step"`
	Weight int       `json:"weight"`
	At     time.Time `json:"at"`
}

// advance adds what a newer look at the canary shows to the progress: a step reached, an abort,
// the analysis verdicts. It reports whether anything changed.
func (p *CanaryProgress) advance(c *Canary, at time.Time) bool {
	if len(p.Reached) == 0 && !p.Aborted && c.Done() && c.CanaryRevision == c.StableRevision {
		return false // the previous version's finished canary: this rollout's has not begun
	}
	changed := false
	if p.Strategy == "" {
		p.Strategy, p.Steps, changed = c.Strategy, c.Steps, true
	}
	if n := len(p.Reached); n == 0 || p.Reached[n-1].Step != c.CurrentStep || p.Reached[n-1].Weight != c.SetWeight {
		// A look behind the last step recorded was taken before it: every replica reads the
		// canary and records on the one row, and a read that waited (a busy replica) may land
		// after another's newer one. Only an aborted canary, retried, starts again lower.
		behind := n > 0 && c.CurrentStep < p.Reached[n-1].Step && !p.Aborted
		if !c.Aborted && !behind {
			p.Reached = append(p.Reached, StepReached{Step: c.CurrentStep, Weight: c.SetWeight, At: at})
			changed = true
		}
	}
	if c.Aborted && !p.Aborted {
		p.Aborted, changed = true, true
	}
	if c.Done() && p.Completed == nil {
		p.Completed, changed = &at, true
	}
	for _, a := range c.Analysis {
		found := false
		for i := range p.Analysis {
			if p.Analysis[i].Name == a.Name {
				found = true
				if p.Analysis[i] != a {
					p.Analysis[i], changed = a, true
				}
			}
		}
		if !found {
			p.Analysis, changed = append(p.Analysis, a), true
		}
	}
	return changed
}
