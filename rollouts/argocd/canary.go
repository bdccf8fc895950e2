package argocd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// rolloutObject is the part of an Argo Rollouts Rollout (argoproj.io/v1alpha1) Portside reads.
// Argo Rollouts' Go types are not imported: Argo CD hands the live object over as JSON, and these
// few fields are its documented API.
type rolloutObject struct {
	Spec struct {
		Strategy struct {
			Canary *struct {
				Steps []map[string]json.RawMessage `json:"steps"`
			} `json:"canary"`
			BlueGreen *struct {
				ActiveService        string `json:"activeService"`
				PreviewService       string `json:"previewService"`
				AutoPromotionEnabled *bool  `json:"autoPromotionEnabled"`
			} `json:"blueGreen"`
		} `json:"strategy"`
	} `json:"spec"`
	Status struct {
		CurrentStepIndex *int   `json:"currentStepIndex"`
		Phase            string `json:"phase"`
		Message          string `json:"message"`
		Abort            bool   `json:"abort"`
		PauseConditions  []struct {
			Reason string `json:"reason"`
		} `json:"pauseConditions"`
		StableRS        string `json:"stableRS"`
		CurrentPodHash  string `json:"currentPodHash"`
		Replicas        int    `json:"replicas"`
		UpdatedReplicas int    `json:"updatedReplicas"`
		Canary          struct {
			CurrentStepAnalysisRunStatus       *analysisStatus `json:"currentStepAnalysisRunStatus"`
			CurrentBackgroundAnalysisRunStatus *analysisStatus `json:"currentBackgroundAnalysisRunStatus"`
			Weights                            *struct {
				Canary struct {
					Weight int `json:"weight"`
				} `json:"canary"`
			} `json:"weights"`
		} `json:"canary"`
	} `json:"status"`
}

type analysisStatus struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// canaryOf reads a Rollout's live object.
func canaryOf(res rollouts.Resource, manifest []byte) (*rollouts.Canary, error) {
	var o rolloutObject
	if err := json.Unmarshal(manifest, &o); err != nil {
		return nil, fmt.Errorf("the live Rollout %s is not the JSON of a Rollout: %w", res.Name, err)
	}
	c := &rollouts.Canary{Resource: res, Phase: o.Status.Phase, Message: o.Status.Message, Aborted: o.Status.Abort,
		StableRevision: o.Status.StableRS, CanaryRevision: o.Status.CurrentPodHash}
	if len(o.Status.PauseConditions) > 0 {
		c.PausedReason = o.Status.PauseConditions[0].Reason
	}
	switch {
	case o.Spec.Strategy.Canary != nil:
		c.Strategy = "canary"
		for _, raw := range o.Spec.Strategy.Canary.Steps {
			c.Steps = append(c.Steps, stepOf(raw))
		}
	case o.Spec.Strategy.BlueGreen != nil:
		bg := o.Spec.Strategy.BlueGreen
		c.Strategy = "blueGreen"
		// Argo Rollouts promotes a blue-green preview by itself unless told not to.
		c.BlueGreen = &rollouts.BlueGreen{ActiveService: bg.ActiveService, PreviewService: bg.PreviewService,
			AutoPromotion: bg.AutoPromotionEnabled == nil || *bg.AutoPromotionEnabled}
	}
	c.CurrentStep = len(c.Steps)
	if o.Status.CurrentStepIndex != nil {
		c.CurrentStep = min(*o.Status.CurrentStepIndex, len(c.Steps))
	}
	// Without a traffic router the weight is not in the status: it is the last setWeight at or
	// before the current step, and what runs is the share of updated pods.
	for i := 0; i < len(c.Steps) && i <= c.CurrentStep; i++ {
		if w := c.Steps[i].Weight; w != nil {
			c.SetWeight = *w
		}
	}
	if c.Strategy == "canary" && len(c.Steps) > 0 && c.CurrentStep >= len(c.Steps) {
		c.SetWeight = 100
	}
	if c.Strategy == "blueGreen" && c.Done() {
		c.SetWeight = 100 // all traffic on the new, now active, version
	}
	if c.Aborted {
		c.SetWeight = 0
	}
	switch {
	case o.Status.Canary.Weights != nil:
		w := o.Status.Canary.Weights.Canary.Weight
		c.ActualWeight = &w
	case o.Status.Replicas > 0:
		w := o.Status.UpdatedReplicas * 100 / o.Status.Replicas
		c.ActualWeight = &w
	}
	for _, a := range []*analysisStatus{o.Status.Canary.CurrentStepAnalysisRunStatus, o.Status.Canary.CurrentBackgroundAnalysisRunStatus} {
		if a != nil && a.Name != "" {
			c.Analysis = append(c.Analysis, rollouts.AnalysisVerdict{Name: a.Name, Phase: a.Status, Message: a.Message})
		}
	}
	return c, nil
}

func stepOf(raw map[string]json.RawMessage) rollouts.CanaryStep {
	for kind, v := range raw {
		s := rollouts.CanaryStep{Kind: kind}
		switch kind {
		case "setWeight":
			var w int
			if json.Unmarshal(v, &w) == nil {
				s.Weight = &w
			}
		case "pause":
			var p struct {
				Duration json.RawMessage `json:"duration"`
			}
			if json.Unmarshal(v, &p) == nil && len(p.Duration) > 0 {
				var str string
				if json.Unmarshal(p.Duration, &str) == nil {
					s.Pause = str
				} else {
					s.Pause = string(p.Duration) + "s" // a bare number of seconds
				}
			}
		}
		return s
	}
	return rollouts.CanaryStep{Kind: "unknown"}
}

// Canary reads the live state of an application's Argo Rollouts Rollout.
func (c *Client) Canary(ctx context.Context, app rollouts.Key, res rollouts.Resource) (*rollouts.Canary, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return nil, err
	}
	q := &application.ApplicationResourceRequest{Name: &app.Name, Namespace: &res.Namespace, ResourceName: &res.Name,
		Version: &res.Version, Group: &res.Group, Kind: &res.Kind}
	if app.Namespace != "" {
		q.AppNamespace = &app.Namespace
	}
	r, err := apps.GetResource(ctx, q)
	if err != nil {
		return nil, c.translate(err, fmt.Sprintf("read Rollout %s of %s", res.Name, app.Name))
	}
	can, err := canaryOf(res, []byte(r.GetManifest()))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "Argo CD %q: %s", c.opts.Name, app.Name)
	}
	return can, nil
}

// RolloutAction runs an Argo Rollouts action (resume, promote-full, abort, retry) on the
// application's Rollout through Argo CD's resource actions.
func (c *Client) RolloutAction(ctx context.Context, app rollouts.Key, res rollouts.Resource, action string) error {
	apps, err := c.applications(ctx)
	if err != nil {
		return err
	}
	r := &application.ResourceActionRunRequest{Name: &app.Name, Namespace: &res.Namespace, ResourceName: &res.Name,
		Version: &res.Version, Group: &res.Group, Kind: &res.Kind, Action: &action}
	if app.Namespace != "" {
		r.AppNamespace = &app.Namespace
	}
	if _, err := apps.RunResourceAction(ctx, r); err != nil {
		return c.translateAction(err, fmt.Sprintf("%s Rollout %s of %s", action, res.Name, app.Name))
	}
	return nil
}

// SyncWindows asks Argo CD which of the project's sync windows apply to the application now.
func (c *Client) SyncWindows(ctx context.Context, app rollouts.Key) (rollouts.SyncWindows, error) {
	apps, err := c.applications(ctx)
	if err != nil {
		return rollouts.SyncWindows{}, err
	}
	q := &application.ApplicationSyncWindowsQuery{Name: &app.Name}
	if app.Namespace != "" {
		q.AppNamespace = &app.Namespace
	}
	r, err := apps.GetApplicationSyncWindows(ctx, q)
	if err != nil {
		return rollouts.SyncWindows{}, c.translate(err, "sync windows of "+app.Name)
	}
	conv := func(in []*application.ApplicationSyncWindow) []rollouts.SyncWindow {
		out := []rollouts.SyncWindow{}
		for _, w := range in {
			out = append(out, rollouts.SyncWindow{Kind: w.GetKind(), Schedule: w.GetSchedule(), Duration: w.GetDuration(), ManualSync: w.GetManualSync()})
		}
		return out
	}
	return rollouts.SyncWindows{CanSync: r.GetCanSync(), Active: conv(r.ActiveWindows), Assigned: conv(r.AssignedWindows)}, nil
}
