// Package policy is the one policy every service asks before it changes anything: which role each
// action needs, and whether a principal has it on a resource. Services call Can themselves (as
// argo-cd's server does); transports may call Gate as a first check.
package policy

import (
	"fmt"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// Action is something a principal may be allowed to do. Names are "area.thing.verb", as audit
// records show them.
type Action string

// The actions. Every mutation maps to one; Can knows the role each one needs.
const (
	LocationRegister   Action = "catalog.location.register"
	LocationRefresh    Action = "catalog.location.refresh"
	LocationUnregister Action = "catalog.location.unregister"
	TokenCreate        Action = "auth.token.create"
	TokenRevoke        Action = "auth.token.revoke"
	SessionRevoke      Action = "auth.session.revoke"
	SlackLink          Action = "auth.slack.link"
	SlackUnlink        Action = "auth.slack.unlink"
	SessionEnd         Action = "auth.session.end" // the identity provider stopped vouching for a session
	AuditRead          Action = "audit.read"
	Login              Action = "auth.login"
	Logout             Action = "auth.logout"

	DeploymentSync      Action = "rollouts.deployment.sync"
	DeploymentRollback  Action = "rollouts.deployment.rollback"
	DeploymentTerminate Action = "rollouts.deployment.terminate"
	DeploymentRefresh   Action = "rollouts.deployment.refresh"
	DeploymentPromote   Action = "rollouts.deployment.promote"
	DeploymentAbort     Action = "rollouts.deployment.abort"
	DeploymentRetry     Action = "rollouts.deployment.retry"

	PipelineTrigger Action = "pipelines.run.trigger"
	PipelineCancel  Action = "pipelines.run.cancel"
	PipelineRetry   Action = "pipelines.run.retry"

	TaskProjectCreate     Action = "tasks.project.create"
	TaskCreate            Action = "tasks.task.create"
	TaskUpdate            Action = "tasks.task.update"
	TaskComment           Action = "tasks.task.comment"
	TaskDelete            Action = "tasks.task.delete"
	TaskImport            Action = "tasks.task.import"
	TaskMeetingCreate     Action = "tasks.meeting.create"
	TaskSuggestionAccept  Action = "tasks.suggestion.accept"
	TaskSuggestionDismiss Action = "tasks.suggestion.dismiss"
	RunbookCreate         Action = "runbooks.runbook.create"
	RunbookUpdate         Action = "runbooks.runbook.update"
	RunbookLink           Action = "runbooks.runbook.link"
	RunbookUnlink         Action = "runbooks.runbook.unlink"
	RunbookDelete         Action = "runbooks.runbook.delete"
	DeployRequest         Action = "deploys.request.create"
	DeployApprove         Action = "deploys.request.approve"
	DeployReject          Action = "deploys.request.reject"
	DeployCancel          Action = "deploys.request.cancel"
)

// Role is what a principal is with respect to one resource.
type Role int

// The roles, weakest first: a stronger role can do whatever a weaker one can.
const (
	RoleNone   Role = iota // not signed in
	RoleViewer             // any signed-in principal
	RoleSelf               // the resource is the principal's own (its tokens, its sessions)
	RoleOwner              // member of the group that owns the resource, or of a group above it
	RoleAdmin              // member of a configured admin group, or an admin token
)

func (r Role) String() string {
	return [...]string{"anonymous", "viewer", "self", "owner", "admin"}[r]
}

// Resource is what an action applies to, with the facts about it the policy needs. The domain
// that holds the resource fills them in (the catalog knows its group hierarchy; auth knows whose
// token a token is).
type Resource struct {
	// Name identifies the resource in messages and audit records ("location 3", "token 7").
	Name string
	// OwnedByCaller: the caller owns the resource, directly or through the group hierarchy.
	OwnedByCaller bool
	// CallersOwn: the resource belongs to the caller (its own token or session).
	CallersOwn bool
}

// required is the weakest role that may perform each action.
var required = map[Action]Role{
	LocationRegister:   RoleAdmin,
	LocationRefresh:    RoleOwner, // the owners of what a location provides may re-read it
	LocationUnregister: RoleAdmin,
	TokenCreate:        RoleViewer, // any user may create tokens for themselves; admin tokens need admin
	TokenRevoke:        RoleSelf,
	SessionRevoke:      RoleSelf,
	SlackLink:          RoleViewer, // a person links their own Slack user (the token proves the Slack side)
	SlackUnlink:        RoleSelf,
	AuditRead:          RoleViewer, // viewers see their own records; the audit package narrows the query
	Login:              RoleNone,
	SessionEnd:         RoleNone, // Portside ends it when the provider refuses a refresh; nobody asks
	Logout:             RoleViewer,
	// A component's owners act on its deployments; Argo CD's own RBAC applies to Portside's
	// account on top.
	DeploymentSync:      RoleOwner,
	DeploymentRollback:  RoleOwner,
	DeploymentTerminate: RoleOwner,
	DeploymentRefresh:   RoleOwner,
	DeploymentPromote:   RoleOwner,
	DeploymentAbort:     RoleOwner,
	DeploymentRetry:     RoleOwner,
	// A component's owners run its pipelines; the CI engine's own permissions apply to
	// Portside's credential on top.
	PipelineTrigger: RoleOwner,
	PipelineCancel:  RoleOwner,
	PipelineRetry:   RoleOwner,
	// A project's members, the members of its owning group (or a group above it) and admins
	// change its tasks; the tasks service decides membership. Creating a project takes membership
	// of the group that is to own it.
	TaskProjectCreate: RoleOwner,
	TaskCreate:        RoleOwner,
	TaskUpdate:        RoleOwner,
	TaskComment:       RoleOwner,
	TaskDelete:        RoleOwner,
	TaskImport:        RoleOwner,
	TaskMeetingCreate: RoleOwner,
	// Those who may change a task decide on the suggestions delivery made for it.
	TaskSuggestionAccept:  RoleOwner,
	TaskSuggestionDismiss: RoleOwner,
	// The owners of a component or system (or of one a runbook is linked to) keep its runbooks.
	RunbookCreate: RoleOwner,
	RunbookUpdate: RoleOwner,
	RunbookLink:   RoleOwner,
	RunbookUnlink: RoleOwner,
	RunbookDelete: RoleOwner,
	// A component's owners ask for its deploys; another owner or an admin decides (the deploys
	// service enforces the four eyes); the owners may withdraw a request not yet applied.
	DeployRequest: RoleOwner,
	DeployApprove: RoleOwner,
	DeployReject:  RoleOwner,
	DeployCancel:  RoleOwner,
}

// readActions need only the "read" scope from a scoped token; every other action needs "write".
var readActions = map[Action]bool{AuditRead: true}

// RoleOf is the role p has on r.
func RoleOf(p *principal.Principal, r Resource) Role {
	switch {
	case p == nil:
		return RoleNone
	case p.Admin:
		return RoleAdmin
	case r.OwnedByCaller:
		return RoleOwner
	case r.CallersOwn:
		return RoleSelf
	default:
		return RoleViewer
	}
}

// Can decides whether p may perform a on r. The error is UNAUTHENTICATED for nobody and FORBIDDEN
// otherwise; its message never says more about r than the caller already named.
func Can(p *principal.Principal, a Action, r Resource) error {
	if err := Gate(p, a); err != nil {
		return err
	}
	if need := required[a]; need > RoleViewer && RoleOf(p, r) < need {
		return &errs.Error{Code: errs.Forbidden, Message: fmt.Sprintf("%s may not %s: it takes the %s role", p.Actor(), describe(a), need)}
	}
	return nil
}

// Gate is the part of Can that does not depend on the resource: the action is known, the caller
// is signed in where it must be, and its credential carries the scope the action needs. Transports
// use it as a first gate, to refuse early what can never pass; services still call Can.
func Gate(p *principal.Principal, a Action) error {
	need, ok := required[a]
	if !ok {
		// An action nobody listed is a bug; refusing keeps it from becoming a hole.
		return errs.E(errs.Internal, "policy: no policy for action %q", a)
	}
	if need == RoleNone {
		return nil
	}
	if p == nil {
		return errs.E(errs.Unauthenticated, "sign in to %s", describe(a))
	}
	scope := "write"
	if readActions[a] {
		scope = "read"
	}
	if !p.HasScope(scope) {
		return errs.E(errs.Forbidden, "this token lacks the %q scope needed to %s", scope, describe(a))
	}
	return nil
}

// describe turns an action into words for messages ("register catalog locations").
func describe(a Action) string {
	switch a {
	case LocationRegister:
		return "register catalog locations"
	case LocationRefresh:
		return "refresh this catalog location"
	case LocationUnregister:
		return "unregister catalog locations"
	case TokenCreate:
		return "create API tokens"
	case TokenRevoke:
		return "revoke this API token"
	case SessionRevoke:
		return "revoke this session"
	case SlackLink:
		return "link a Slack user"
	case SlackUnlink:
		return "unlink this Slack user"
	case AuditRead:
		return "read the audit log"
	case Logout:
		return "sign out"
	case DeploymentSync:
		return "sync this component's deployments"
	case DeploymentRollback:
		return "roll back this component's deployments"
	case DeploymentTerminate:
		return "terminate operations of this component's deployments"
	case DeploymentRefresh:
		return "refresh this component's deployments"
	case DeploymentPromote:
		return "promote this component's canaries"
	case DeploymentAbort:
		return "abort this component's canaries"
	case DeploymentRetry:
		return "retry this component's canaries"
	case PipelineTrigger:
		return "trigger this component's pipelines"
	case PipelineCancel:
		return "cancel this component's pipeline runs"
	case PipelineRetry:
		return "retry this component's pipeline runs"
	case TaskProjectCreate:
		return "create projects for this group"
	case TaskCreate:
		return "add tasks to this project"
	case TaskUpdate:
		return "change this project's tasks"
	case TaskComment:
		return "comment on this project's tasks"
	case TaskDelete:
		return "delete this project's tasks"
	case TaskImport:
		return "import tasks into this project"
	case TaskMeetingCreate:
		return "record meetings of this project"
	case TaskSuggestionAccept:
		return "accept suggestions for this project's tasks"
	case TaskSuggestionDismiss:
		return "dismiss suggestions for this project's tasks"
	case RunbookCreate:
		return "create runbooks for these entities"
	case RunbookUpdate:
		return "edit this runbook"
	case RunbookLink:
		return "link this runbook there"
	case RunbookUnlink:
		return "unlink this runbook"
	case RunbookDelete:
		return "delete this runbook"
	case DeployRequest:
		return "request deploys of this component"
	case DeployApprove:
		return "approve this deploy request"
	case DeployReject:
		return "reject this deploy request"
	case DeployCancel:
		return "cancel this deploy request"
	default:
		return string(a)
	}
}
