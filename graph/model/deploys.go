package model

import (
	"sync"
	"time"

	"github.com/portside-dev/portside/deploys"
)

// DeployRequest is a deploy request; its pipeline run and transitions are resolved on demand.
type DeployRequest struct {
	ID          string             `json:"id"`
	Number      int                `json:"number"`
	Component   string             `json:"component"`
	Environment string             `json:"environment"`
	Version     string             `json:"version"`
	Reason      string             `json:"reason"`
	Requester   string             `json:"requester"`
	Approver    *string            `json:"approver,omitempty"`
	Client      DeployClient       `json:"client"`
	State       DeployRequestState `json:"state"`
	Waiting     *string            `json:"waiting,omitempty"`
	Outcome     *string            `json:"outcome,omitempty"`
	CreatedAt   time.Time          `json:"createdAt"`
	UpdatedAt   time.Time          `json:"updatedAt"`
	ExpiresAt   *time.Time         `json:"expiresAt,omitempty"`
	Repo        *string            `json:"repo,omitempty"`
	CommitSha   *string            `json:"commitSha,omitempty"`
	// PullRequestURL is the pull (merge) request that applies the request.
	PullRequestURL *string `json:"pullRequestUrl,omitempty"`
	// PipelineRunID is the run that built the version, for the pipelineRun field.
	PipelineRunID *int64 `json:"-"`
	// Request is the domain value, for the viewerCan* fields.
	Request deploys.Request `json:"-"`

	abilities *abilities
}

// abilities holds what the viewer may do with one request: the three viewerCan* fields share one
// check (each would otherwise ask the catalog again).
type abilities struct {
	once sync.Once
	v    deploys.Abilities
	err  error
}

// Abilities returns what the viewer may do with the request, computed by find the first time.
func (q *DeployRequest) Abilities(find func() (deploys.Abilities, error)) (deploys.Abilities, error) {
	if q.abilities == nil {
		// A request built without NewDeployRequest: nothing to share.
		return find()
	}
	q.abilities.once.Do(func() { q.abilities.v, q.abilities.err = find() })
	return q.abilities.v, q.abilities.err
}

func (DeployRequest) IsNode()            {}
func (this DeployRequest) GetID() string { return this.ID }

// NewDeployRequest converts a deploy request.
func NewDeployRequest(q deploys.Request) *DeployRequest {
	return &DeployRequest{ID: EncodeNumericID("DeployRequest", q.ID), Number: int(q.ID), Component: q.Component, Environment: q.Environment,
		Version: q.Version, Reason: q.Reason, Requester: q.Requester, Approver: optional(q.Approver), Client: DeployClient(q.Client),
		State: DeployRequestState(q.State), Waiting: optional(q.Waiting), Outcome: optional(q.Outcome), CreatedAt: q.CreatedAt,
		UpdatedAt: q.UpdatedAt, ExpiresAt: q.ExpiresAt, Repo: optional(q.Repo), CommitSha: optional(q.CommitSHA), PullRequestURL: optional(q.PullRequestURL),
		PipelineRunID: q.PipelineRunID,
		Request:       q, abilities: &abilities{}}
}

// NewDeployEnvironments converts a component's deploy environments.
func NewDeployEnvironments(list []deploys.Environment) []*DeployEnvironment {
	out := make([]*DeployEnvironment, len(list))
	for i, e := range list {
		out[i] = &DeployEnvironment{Name: e.Name, RequiresApproval: e.RequireApproval}
	}
	return out
}

// NewDeployTransition converts one transition of a request.
func NewDeployTransition(t deploys.Transition) *DeployTransition {
	out := &DeployTransition{Actor: t.Actor, Client: DeployClient(t.Client), To: DeployRequestState(t.To), Note: t.Note, At: t.At}
	if t.From != "" {
		from := DeployRequestState(t.From)
		out.From = &from
	}
	return out
}

// NewDeployRequestEvent converts a request that moved.
func NewDeployRequestEvent(e deploys.Event) *DeployRequestEvent {
	return &DeployRequestEvent{Request: NewDeployRequest(e.Request), Transition: NewDeployTransition(e.Transition)}
}

// NewDeployRequestConnection converts a page of requests.
func NewDeployRequestConnection(p *deploys.Page) *DeployRequestConnection {
	c := &DeployRequestConnection{Nodes: []*DeployRequest{}, Edges: []*DeployRequestEdge{}, TotalCount: int(p.TotalCount),
		PageInfo: pageInfo(p.Cursors, p.HasNextPage)}
	for i, q := range p.Requests {
		n := NewDeployRequest(q)
		c.Nodes = append(c.Nodes, n)
		c.Edges = append(c.Edges, &DeployRequestEdge{Cursor: p.Cursors[i], Node: n})
	}
	return c
}

func deployStates(in []DeployRequestState) []deploys.State {
	out := make([]deploys.State, len(in))
	for i, s := range in {
		out[i] = deploys.State(s)
	}
	return out
}

// Filter converts the catalog-wide request filter.
func (f *DeployRequestFilter) Filter() deploys.Filter {
	if f == nil {
		return deploys.Filter{}
	}
	return deploys.Filter{Component: orEmpty(f.Component), Environment: orEmpty(f.Environment), States: deployStates(f.States),
		Requester: orEmpty(f.Requester), Mine: f.Mine != nil && *f.Mine, AwaitingMyApproval: f.AwaitingMyApproval != nil && *f.AwaitingMyApproval}
}

// Filter converts a component's request filter.
func (f *ComponentDeployRequestFilter) Filter(component string) deploys.Filter {
	if f == nil {
		return deploys.Filter{Component: component}
	}
	return deploys.Filter{Component: component, Environment: orEmpty(f.Environment), States: deployStates(f.States)}
}

// Input converts a new request.
func (in RequestDeployInput) Input() deploys.RequestInput {
	return deploys.RequestInput{Component: in.Component, Environment: in.Environment, Version: in.Version, Reason: orEmpty(in.Reason)}
}
