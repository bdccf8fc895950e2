package argocd

import (
	"slices"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/rollouts"
)

// EnvironmentLabel is the application label that names its environment.
const EnvironmentLabel = "environment"

// toApplication turns an Argo CD application into the tracker's view of it.
func toApplication(instance string, app *v1alpha1.Application) rollouts.Application {
	out := rollouts.Application{Deployment: deployment(instance, app), Labels: app.Labels}
	for _, r := range app.Status.Resources {
		res := rollouts.Resource{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
		if res.IsArgoRollout() {
			out.Rollouts = append(out.Rollouts, res)
		}
	}
	for _, h := range app.Status.History {
		out.History = append(out.History, rollouts.HistoryEntry{ID: h.ID, Revision: historyRevision(h),
			StartedAt: timeOf(h.DeployStartedAt), DeployedAt: h.DeployedAt.UTC(),
			InitiatedBy: h.InitiatedBy.Username, Automated: h.InitiatedBy.Automated})
	}
	return out
}

func historyRevision(h v1alpha1.RevisionHistory) string {
	if h.Revision == "" && len(h.Revisions) > 0 {
		return h.Revisions[0]
	}
	return h.Revision
}

// deployment turns an Argo CD application into a deployment of the instance.
func deployment(instance string, app *v1alpha1.Application) rollouts.Deployment {
	d := rollouts.Deployment{
		Instance: instance, Application: app.Name, AppNamespace: app.Namespace, Project: app.Spec.Project,
		Cluster: app.Spec.Destination.Server, Namespace: app.Spec.Destination.Namespace,
		Sync: rollouts.SyncStatus(app.Status.Sync.Status), Health: rollouts.Health(app.Status.Health.Status),
		Revision: app.Status.Sync.Revision, Images: slices.Sorted(slices.Values(app.Status.Summary.Images)),
		ResourceVersion: app.ResourceVersion, HealthSince: timeOf(app.Status.Health.LastTransitionTime),
	}
	if d.Cluster == "" {
		d.Cluster = app.Spec.Destination.Name
	}
	for _, c := range app.Status.Conditions {
		d.Conditions = append(d.Conditions, rollouts.Condition{Type: c.Type, Message: c.Message, Since: timeOf(c.LastTransitionTime)})
	}
	switch {
	case app.Labels[EnvironmentLabel] != "":
		d.Environment = app.Labels[EnvironmentLabel]
	case app.Spec.Destination.Name != "":
		d.Environment = app.Spec.Destination.Name
	default:
		d.Environment = app.Spec.Destination.Namespace
	}
	if d.Sync == "" {
		d.Sync = rollouts.SyncUnknown
	}
	if d.Health == "" {
		d.Health = rollouts.HealthUnknown
	}
	if d.Revision == "" && len(app.Status.Sync.Revisions) > 0 {
		d.Revision = app.Status.Sync.Revisions[0] // multi-source applications
	}
	if op := app.Status.OperationState; op != nil {
		o := &rollouts.Operation{Phase: rollouts.OperationPhase(op.Phase), Message: op.Message,
			StartedAt: op.StartedAt.UTC(), FinishedAt: timeOf(op.FinishedAt),
			InitiatedBy: op.Operation.InitiatedBy.Username, Automated: op.Operation.InitiatedBy.Automated}
		for _, info := range op.Operation.Info {
			if info != nil && info.Name == RequestedByInfo {
				o.RequestedBy = info.Value
			}
		}
		if op.SyncResult != nil {
			o.Revision = op.SyncResult.Revision
		} else if op.Operation.Sync != nil {
			o.Revision = op.Operation.Sync.Revision
		}
		d.Operation = o
		if o.Phase == rollouts.OperationSucceeded {
			d.LastSyncedAt = o.FinishedAt
		}
	}
	if d.LastSyncedAt == nil && len(app.Status.History) > 0 {
		d.LastSyncedAt = timeOf(&app.Status.History[len(app.Status.History)-1].DeployedAt)
	}
	return d
}

func timeOf(t *metav1.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
