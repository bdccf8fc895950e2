// Package rollouts is where components are deployed and how each rollout went: the deployments
// Argo CD reports for a component, found through the component's Backstage annotations. It holds
// Portside's own types; only rollouts/argocd speaks Argo CD.
package rollouts

import "time"

// SyncStatus says whether what runs matches what git says.
type SyncStatus string

// The sync statuses, as Argo CD names them.
const (
	Synced      SyncStatus = "Synced"
	OutOfSync   SyncStatus = "OutOfSync"
	SyncUnknown SyncStatus = "Unknown"
)

// Health is the application's health as Argo CD assesses it.
type Health string

// The health statuses, as Argo CD names them.
const (
	Healthy       Health = "Healthy"
	Progressing   Health = "Progressing"
	Degraded      Health = "Degraded"
	Suspended     Health = "Suspended"
	Missing       Health = "Missing"
	HealthUnknown Health = "Unknown"
)

// Deployment is one Argo CD application as a component's deployment: where it runs and in what
// state, as last seen.
type Deployment struct {
	// Instance is the Argo CD instance's configured name.
	Instance string
	// Application and AppNamespace identify the Argo CD application.
	Application  string
	AppNamespace string
	Project      string
	// Environment is what the deployment is called in a rollout list: the application's
	// "environment" label, else its destination cluster's name, else its destination namespace.
	Environment string
	// Cluster is the destination cluster (its URL or name); Namespace its namespace.
	Cluster   string
	Namespace string
	Sync      SyncStatus
	Health    Health
	// HealthSince is when the health last changed, as Argo CD reports it; nil when it does not.
	HealthSince *time.Time
	// Revision is the revision the application is synced to (a git commit, a chart version).
	Revision string
	// Images are the container images of the application's resources, sorted.
	Images []string
	// LastSyncedAt is when the last sync operation finished; nil if none is known.
	LastSyncedAt *time.Time
	// Operation is the running or last sync operation; nil if none is known.
	Operation *Operation
	// Canary is the state of the application's Argo Rollouts Rollout; nil without one.
	Canary *Canary
	// Conditions are Argo CD's errors and warnings about the application (ComparisonError,
	// SyncError, OrphanedResourceWarning, ...).
	Conditions []Condition
	// ResourceVersion is Argo CD's version of the application object, to tell updates apart.
	ResourceVersion string
	// Stale is set while the instance cannot be reached: the state is the last one seen, at
	// LastSeenAt.
	Stale      bool
	LastSeenAt time.Time
}

// SyncWindows are the sync windows of an application's project that apply to it, as Argo CD
// evaluates them now.
type SyncWindows struct {
	// CanSync says whether a sync may start now; ManualSyncOnly windows still let a person sync.
	CanSync          bool
	Active, Assigned []SyncWindow
}

// SyncWindow is one allow or deny window.
type SyncWindow struct {
	Kind       string // allow or deny
	Schedule   string // a cron expression
	Duration   string
	ManualSync bool // manual syncs are allowed inside it
}

// Condition is one of Argo CD's errors or warnings about an application.
type Condition struct {
	Type    string
	Message string
	Since   *time.Time
}

// Key names an application across instances.
type Key struct {
	Instance, Namespace, Name string
}

func (k Key) String() string { return k.Instance + "/" + k.Namespace + "/" + k.Name }

// Key is the deployment's application key.
func (d *Deployment) Key() Key { return Key{d.Instance, d.AppNamespace, d.Application} }

// Application is what an instance reports about one application: the deployment, its labels (for
// argocd/app-selector) and the sync history Argo CD keeps (its last few successful syncs).
type Application struct {
	Deployment
	Labels  map[string]string
	History []HistoryEntry
	// Rollouts are the application's Argo Rollouts Rollout resources, whose canaries Portside
	// follows.
	Rollouts []Resource
}

// HistoryEntry is one successful sync in Argo CD's application history.
type HistoryEntry struct {
	// ID is Argo CD's history ID, the one a rollback names.
	ID         int64
	Revision   string
	StartedAt  *time.Time
	DeployedAt time.Time
	// InitiatedBy is the user who started the sync, "" for an automated one.
	InitiatedBy string
	Automated   bool
}

// Commit is what the source says about a revision: for lead time, who and what.
type Commit struct {
	Author  string
	Message string
	Date    *time.Time
}

// OperationPhase is how far a sync operation got.
type OperationPhase string

// The operation phases, as Argo CD names them.
const (
	OperationRunning     OperationPhase = "Running"
	OperationTerminating OperationPhase = "Terminating"
	OperationFailed      OperationPhase = "Failed"
	OperationError       OperationPhase = "Error"
	OperationSucceeded   OperationPhase = "Succeeded"
)

// Operation is a sync operation.
type Operation struct {
	Phase      OperationPhase
	Message    string
	Revision   string
	StartedAt  time.Time
	FinishedAt *time.Time
	// InitiatedBy is the user who started it, or "" when Argo CD started it (automated sync).
	InitiatedBy string
	Automated   bool
	// RequestedBy is the person who asked Portside for it; InitiatedBy is then Portside's account.
	RequestedBy string
}
