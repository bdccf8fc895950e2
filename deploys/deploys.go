// Package deploys is the deploy-request domain: how a version reaches an environment. A request is
// asked for by an owner of the component, approved by someone else (four eyes), applied as a commit
// to the environment's manifest repository (see deploys/gitops; never kubectl apply) and followed
// until Argo CD's rollout of that commit ends. The portal, the API, the CLI and Slack all drive the
// one state machine kept here, with one history of transitions. The domain knows no transport.
package deploys

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// State is where a deploy request stands.
type State string

// The states, as GraphQL and the database spell them.
const (
	Requested  State = "REQUESTED"
	Approved   State = "APPROVED"
	Rejected   State = "REJECTED"
	Expired    State = "EXPIRED"
	Cancelled  State = "CANCELLED"
	Applying   State = "APPLYING"
	RollingOut State = "ROLLING_OUT"
	Succeeded  State = "SUCCEEDED"
	Failed     State = "FAILED"
	RolledBack State = "ROLLED_BACK"
)

// States lists every state in the order a request moves through them.
var States = []State{Requested, Approved, Rejected, Expired, Cancelled, Applying, RollingOut, Succeeded, Failed, RolledBack}

// OpenStates are the states of a request that is still under way: a second request for the same
// component, version and environment returns the open one (the unique partial index
// deploy_requests_open in migration 00009 holds exactly these).
var OpenStates = []State{Requested, Approved, Applying, RollingOut}

// Open reports whether a request in s is still under way.
func (s State) Open() bool {
	for _, o := range OpenStates {
		if s == o {
			return true
		}
	}
	return false
}

// next is the state machine: the states each state may move to.
var next = map[State][]State{
	Requested: {Approved, Rejected, Expired, Cancelled},
	Approved:  {Applying, Cancelled},
	// Applying → Applying records a pull request opened for the request (see Target.Apply).
	Applying:   {Applying, RollingOut, Failed},
	RollingOut: {RollingOut, Succeeded, Failed, RolledBack},
}

// CanMove reports whether the state machine lets a request move from one state to another.
// RollingOut → RollingOut records the rollout's progress (a canary step), and Applying → Applying
// the pull request opened for it, without a change of state.
func CanMove(from, to State) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Client is how a request or a transition reached Portside.
type Client string

// The clients. System is Portside's own work: expiry, applying, following the rollout.
const (
	ClientPortal Client = "PORTAL"
	ClientAPI    Client = "API"
	ClientSlack  Client = "SLACK"
	ClientCLI    Client = "CLI"
	ClientSystem Client = "SYSTEM"
)

// clientOf is the client a principal's request came through.
func clientOf(p *principal.Principal) Client {
	if p == nil {
		return ClientSystem
	}
	switch p.Client {
	case principal.ClientWeb:
		return ClientPortal
	case principal.ClientAPI:
		return ClientAPI
	case principal.ClientSlack:
		return ClientSlack
	case principal.ClientCLI:
		return ClientCLI
	}
	return ClientSystem
}

// Request is one deploy request.
type Request struct {
	ID int64
	// Component is the component's canonical ref.
	Component   string
	Environment string
	// Version is what is deployed: an image digest (sha256:…) or a tag a successful pipeline run of
	// the component produced.
	Version string
	Reason  string
	// Requester and Approver are actors (usernames); Approver is "" until someone approves (or
	// "portside" when the environment needs no approval).
	Requester      string
	RequesterName  string
	RequesterEmail string
	Approver       string
	Client         Client
	State          State
	// Waiting says why an approved request has not been applied yet (a sync window forbids it),
	// or why an applying one is not rolling out yet (its pull request waits to be merged).
	Waiting string
	// Outcome says why the request ended as it did (rejected, failed, rolled back, succeeded).
	Outcome   string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is when a request nobody approved expires; nil when it needs no approval.
	ExpiresAt *time.Time
	// Repo and CommitSHA are the manifest repository and the commit that applied the request.
	Repo      string
	CommitSHA string
	// PullRequestURL is the pull (merge) request that applies the request, for targets applied by
	// pull request; "" otherwise, and until it is opened.
	PullRequestURL string
	// PipelineRunID is the pipeline run that built the version, when known.
	PipelineRunID *int64
	// ApplyAttempt fences the applies of the request: the move to APPLYING and every resume of an
	// apply cut short raise it by one, and the end of an apply is recorded only while the attempt
	// it raised is still the request's (see applylock.go). 0 until the request is first applied.
	ApplyAttempt int64
	// Target is where the request was asked to go (the component's deploy target for the
	// environment when it was made): it is approved and applied for that target only. Nil on
	// requests made before requests kept theirs (migration 00038).
	Target *Target
}

// Transition is one move of a request's state: who, when, through which client, from → to, and why.
type Transition struct {
	ID        int64
	RequestID int64
	Actor     string
	Client    Client
	From, To  State
	Note      string
	At        time.Time
}

// Bounds on input. Each has a test; an input past one is INVALID naming the field.
const (
	MaxReason      = 500
	MaxNote        = 500
	MaxVersion     = 128
	MaxEnvironment = 63
	MaxRef         = 255
)

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	envRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// IsDigest reports whether v is an image digest (sha256: and 64 lower-case hex digits).
func IsDigest(v string) bool { return digestRE.MatchString(v) }

// checkVersion refuses what is neither a digest nor a well-formed tag.
func checkVersion(v string) error {
	if err := text.Length("version", v, MaxVersion); err != nil {
		return err
	}
	if strings.HasPrefix(v, "sha256:") && !IsDigest(v) {
		return errs.InvalidField("version", "%q is not an image digest: sha256: and 64 lower-case hex digits", clip(v))
	}
	if !IsDigest(v) && !tagRE.MatchString(v) {
		return errs.InvalidField("version", "%q is neither an image digest (sha256:…) nor an image tag", clip(v))
	}
	return nil
}

// checkEnvironment refuses what cannot name an environment.
func checkEnvironment(env string) error {
	if len(env) > MaxEnvironment || !envRE.MatchString(env) {
		return errs.InvalidField("environment", "%q is not an environment name: lower-case letters, digits and dashes, at most %d", clip(env), MaxEnvironment)
	}
	return nil
}

// clip shortens a value quoted back in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:60]) + "…"
}
