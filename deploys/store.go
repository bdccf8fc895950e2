package deploys

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// requestRow is a deploy request as stored in deploy_requests.
type requestRow struct {
	ID             int64 `gorm:"primaryKey"`
	ComponentRef   string
	Environment    string
	Version        string
	Reason         string
	Requester      string
	RequesterName  string
	RequesterEmail string
	Approver       string
	Client         string
	State          string
	Waiting        string
	Outcome        string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      *time.Time
	Repo           string
	CommitSha      string
	PullRequestURL string `gorm:"column:pull_request_url"`
	PipelineRunID  *int64
	ApplyAttempt   int64
	Target         string // JSON of Target; "" on requests made before migration 00038
}

func (requestRow) TableName() string { return "deploy_requests" }

// transitionRow is one transition of a request, as stored in deploy_transitions.
type transitionRow struct {
	ID        int64 `gorm:"primaryKey"`
	RequestID int64
	Actor     string
	Client    string
	FromState string
	ToState   string
	Note      string
	At        time.Time
}

func (transitionRow) TableName() string { return "deploy_transitions" }

// Models lists the gorm row types of the deploys domain, for the schema conformance test.
func Models() []any { return []any{&requestRow{}, &transitionRow{}} }

func (r *requestRow) toRequest() Request {
	out := Request{ID: r.ID, Component: r.ComponentRef, Environment: r.Environment, Version: r.Version, Reason: r.Reason,
		Requester: r.Requester, RequesterName: r.RequesterName, RequesterEmail: r.RequesterEmail, Approver: r.Approver,
		Client: Client(r.Client), State: State(r.State), Waiting: r.Waiting, Outcome: r.Outcome, CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(), Repo: r.Repo, CommitSHA: r.CommitSha, PullRequestURL: r.PullRequestURL, PipelineRunID: r.PipelineRunID,
		ApplyAttempt: r.ApplyAttempt}
	if r.ExpiresAt != nil {
		t := r.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	if r.Target != "" {
		var t Target
		if json.Unmarshal([]byte(r.Target), &t) == nil && t.Repo != "" {
			out.Target = &t
		}
	}
	return out
}

func newRequestRow(q *Request) requestRow {
	return requestRow{ID: q.ID, ComponentRef: q.Component, Environment: q.Environment, Version: q.Version, Reason: q.Reason,
		Requester: q.Requester, RequesterName: q.RequesterName, RequesterEmail: q.RequesterEmail, Approver: q.Approver,
		Client: string(q.Client), State: string(q.State), Waiting: q.Waiting, Outcome: q.Outcome, CreatedAt: q.CreatedAt,
		UpdatedAt: q.UpdatedAt, ExpiresAt: q.ExpiresAt, Repo: q.Repo, CommitSha: q.CommitSHA, PullRequestURL: q.PullRequestURL,
		PipelineRunID: q.PipelineRunID, ApplyAttempt: q.ApplyAttempt, Target: targetJSON(q.Target)}
}

// targetJSON is a request's target as stored: "" for none.
func targetJSON(t *Target) string {
	if t == nil {
		return ""
	}
	b, _ := json.Marshal(t) // strings and a string kind: it cannot fail
	return string(b)
}

// records keeps deploy requests and their transitions in the database.
type records struct {
	st *store.Store
}

// ApplyLockClass is the first half of the PostgreSQL advisory lock a process holds while it
// applies a deploy request ("PSAP", Portside apply), in pg_try_advisory_lock's two-integer form;
// the second half is a hash of the schema and the request's ID (store.LockKey). The leader's lock
// has another first half (leader.LockClass, "PSLE"), and the single-bigint keys (catalog applies,
// migrations) are another key space, so none of them meet. See applylock.go.
const ApplyLockClass int32 = 0x50534150

func what(id int64) string { return "deploy request " + strconv.FormatInt(id, 10) }

// insert records a new request and its first transition. A request for a component, version
// and environment that already has an open one is a CONFLICT (the unique partial index).
func (s *records) insert(ctx context.Context, q *Request, t *Transition) error {
	row := newRequestRow(q)
	row.ID = 0
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "an open deploy request of "+q.Component+" "+q.Version+" to "+q.Environment)
	}
	q.ID = row.ID
	t.RequestID = q.ID
	return s.insertTransition(ctx, t)
}

// insertTransition records t and sets its ID (subscribers order a request's moves by it).
func (s *records) insertTransition(ctx context.Context, t *Transition) error {
	row := transitionRow{RequestID: t.RequestID, Actor: t.Actor, Client: string(t.Client), FromState: string(t.From),
		ToState: string(t.To), Note: t.Note, At: t.At}
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "transition of "+what(t.RequestID))
	}
	t.ID = row.ID
	return nil
}

// open finds the open request for a component, version and environment.
func (s *records) open(ctx context.Context, component, env, version string) (Request, error) {
	var row requestRow
	err := s.st.DB(ctx).Where("component_ref = ? AND environment = ? AND version = ? AND state IN ?", component, env, version, stateStrings(OpenStates)).
		Take(&row).Error
	if err != nil {
		return Request{}, store.Translate(err, "an open deploy request of "+component+" "+version+" to "+env)
	}
	return row.toRequest(), nil
}

func (s *records) byID(ctx context.Context, id int64) (Request, error) {
	var row requestRow
	if err := s.st.DB(ctx).Take(&row, id).Error; err != nil {
		return Request{}, store.Translate(err, what(id))
	}
	return row.toRequest(), nil
}

// move writes q's fields over the stored request if it is still in state from, with t as its
// transition. A request that moved meanwhile (another approval, an expiry) is a CONFLICT. A move
// from or to APPLYING is fenced as well: it is written only if the request's apply attempt is
// still attempt (the one its applier claimed, or, for the move to APPLYING, the one before it),
// and one whose apply was taken over meanwhile is a CONFLICT too (see errTakenOver).
func (s *records) move(ctx context.Context, q *Request, from State, attempt int64, t *Transition) error {
	where := s.st.DB(ctx).Model(&requestRow{}).Where("id = ? AND state = ?", q.ID, string(from))
	fenced := from == Applying || q.State == Applying
	if fenced {
		where = where.Where("apply_attempt = ?", attempt)
	}
	res := where.Updates(map[string]any{
		"state": string(q.State), "approver": q.Approver, "waiting": q.Waiting, "outcome": q.Outcome, "updated_at": q.UpdatedAt,
		"repo": q.Repo, "commit_sha": q.CommitSHA, "pull_request_url": q.PullRequestURL, "apply_attempt": q.ApplyAttempt,
	})
	if res.Error != nil {
		return store.Translate(res.Error, what(q.ID))
	}
	if res.RowsAffected == 0 {
		now, err := s.byID(ctx, q.ID)
		if err != nil {
			return err
		}
		if fenced && now.State == from && now.ApplyAttempt != attempt {
			return takenOver(q.ID, attempt, now.ApplyAttempt)
		}
		return errs.E(errs.Conflict, "deploy request %d is %s, not %s", q.ID, now.State, from)
	}
	if from == q.State {
		// A move within a state (a rollout's progress) is told once: two followers hearing the
		// same step (two replicas, or an event and a settle pass) both read a different last
		// note before either wrote. The update above holds the request's row until commit, so
		// a note written first by the other is seen now. Not only the last one: a replica that
		// lags tells an earlier step after a later one was told (step 1, step 2, step 1 again).
		var told int64
		if err := s.st.DB(ctx).Model(&transitionRow{}).Where("request_id = ? AND from_state = ? AND to_state = ? AND note = ?",
			q.ID, string(from), string(q.State), t.Note).Count(&told).Error; err != nil {
			return store.Translate(err, what(q.ID))
		}
		if told > 0 {
			return errs.E(errs.Conflict, "deploy request %d: %q was recorded already", q.ID, t.Note)
		}
	}
	t.RequestID = q.ID
	return s.insertTransition(ctx, t)
}

// setWaiting records why q (approved, or applying by pull request) waits, without a transition,
// if it is still in its state (and, applying, still at its apply attempt): false when it moved on
// or its apply was taken over, and nothing was written.
func (s *records) setWaiting(ctx context.Context, q Request, waiting string, at time.Time) (bool, error) {
	where := s.st.DB(ctx).Model(&requestRow{}).Where("id = ? AND state = ?", q.ID, string(q.State))
	if q.State == Applying {
		where = where.Where("apply_attempt = ?", q.ApplyAttempt)
	}
	res := where.Updates(map[string]any{"waiting": waiting, "updated_at": at})
	if res.Error != nil {
		return false, store.Translate(res.Error, what(q.ID))
	}
	return res.RowsAffected == 1, nil
}

// MaxBatch bounds the requests one pass of the background loop handles.
const MaxBatch = 100

// due lists requests in state whose expiry is at or before now (expired), oldest first.
func (s *records) due(ctx context.Context, now time.Time) ([]Request, error) {
	var rows []requestRow
	err := s.st.DB(ctx).Where("state = ? AND expires_at IS NOT NULL AND expires_at <= ?", string(Requested), now).
		Order("id").Limit(MaxBatch).Find(&rows).Error
	return toRequests(rows), store.Translate(err, "deploy requests")
}

// inState lists requests in one of states, oldest first, at most MaxBatch.
func (s *records) inState(ctx context.Context, states ...State) ([]Request, error) {
	var rows []requestRow
	err := s.st.DB(ctx).Where("state IN ?", stateStrings(states)).Order("id").Limit(MaxBatch).Find(&rows).Error
	return toRequests(rows), store.Translate(err, "deploy requests")
}

// pullRequestsDue lists the applying requests a pull request holds, or whose pull request could
// not be opened yet (they wait, saying why), oldest first, at most MaxBatch: the background pass
// looks at each.
func (s *records) pullRequestsDue(ctx context.Context) ([]Request, error) {
	var rows []requestRow
	err := s.st.DB(ctx).Where("state = ? AND (pull_request_url <> '' OR waiting <> '')", string(Applying)).
		Order("id").Limit(MaxBatch).Find(&rows).Error
	return toRequests(rows), store.Translate(err, "deploy requests")
}

// stale lists requests in state that have not moved since before, oldest first, at most MaxBatch.
func (s *records) stale(ctx context.Context, state State, before time.Time) ([]Request, error) {
	var rows []requestRow
	err := s.st.DB(ctx).Where("state = ? AND updated_at <= ?", string(state), before).Order("id").Limit(MaxBatch).Find(&rows).Error
	return toRequests(rows), store.Translate(err, "deploy requests")
}

// applying lists the APPLYING requests that are not held by a pull request (none recorded, and
// none waiting to be opened: the background pass's repropose follows those), oldest first, at
// most MaxBatch: the applies under way, or cut short.
func (s *records) applying(ctx context.Context) ([]Request, error) {
	var rows []requestRow
	err := s.st.DB(ctx).Where("state = ? AND pull_request_url = '' AND waiting = ''", string(Applying)).
		Order("id").Limit(MaxBatch).Find(&rows).Error
	return toRequests(rows), store.Translate(err, "deploy requests")
}

// claim takes a stale APPLYING request for this process: if the request is still APPLYING at
// attempt and has not moved since before, it touches updated_at and raises the apply attempt by
// one (the fence: the applier it takes over from records nothing after it), and reports whether
// it did. Of two replicas resuming the same request, one claims it; the other finds it touched.
func (s *records) claim(ctx context.Context, id, attempt int64, before, now time.Time) (bool, error) {
	res := s.st.DB(ctx).Model(&requestRow{}).Where("id = ? AND state = ? AND apply_attempt = ? AND updated_at <= ?", id, string(Applying), attempt, before).
		Updates(map[string]any{"updated_at": now, "apply_attempt": attempt + 1})
	if res.Error != nil {
		return false, store.Translate(res.Error, what(id))
	}
	return res.RowsAffected == 1, nil
}

// awaitingComponents lists the components (at most limit, by ref) with requests waiting for a
// decision that actor did not ask for; component, when set, is the only one looked at.
func (s *records) awaitingComponents(ctx context.Context, actor, component string, limit int) ([]string, error) {
	q := s.st.DB(ctx).Model(&requestRow{}).Where("state = ? AND requester <> ?", string(Requested), actor)
	if component != "" {
		q = q.Where("component_ref = ?", component)
	}
	var refs []string
	err := q.Distinct("component_ref").Order("component_ref").Limit(limit).Pluck("component_ref", &refs).Error
	return refs, store.Translate(err, "deploy requests")
}

// byCommit lists the requests rolling out a commit.
func (s *records) byCommit(ctx context.Context, sha string) ([]Request, error) {
	var rows []requestRow
	err := s.st.DB(ctx).Where("commit_sha = ? AND state = ?", sha, string(RollingOut)).Order("id").Limit(MaxBatch).Find(&rows).Error
	return toRequests(rows), store.Translate(err, "deploy requests")
}

func toRequests(rows []requestRow) []Request {
	out := make([]Request, len(rows))
	for i := range rows {
		out[i] = rows[i].toRequest()
	}
	return out
}

func stateStrings(list []State) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return out
}

// MaxTransitions bounds the transitions one call returns.
const MaxTransitions = 200

func (s *records) transitions(ctx context.Context, id int64) ([]Transition, error) {
	var rows []transitionRow
	if err := s.st.DB(ctx).Where("request_id = ?", id).Order("id").Limit(MaxTransitions).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "transitions of "+what(id))
	}
	out := make([]Transition, len(rows))
	for i, r := range rows {
		out[i] = Transition{ID: r.ID, RequestID: r.RequestID, Actor: r.Actor, Client: Client(r.Client), From: State(r.FromState),
			To: State(r.ToState), Note: r.Note, At: r.At.UTC()}
	}
	return out, nil
}

// Filter narrows a list of requests.
type Filter struct {
	// Component is a canonical ref ("" for every component).
	Component   string
	Environment string
	States      []State
	// Requester narrows to one actor's requests.
	Requester string
	// Mine narrows to the caller's own requests.
	Mine bool
	// AwaitingMyApproval narrows to requests waiting for an approval (REQUESTED) that the caller
	// did not make, of components whose requests the caller may approve.
	AwaitingMyApproval bool
	// awaitingBy is the caller's actor when AwaitingMyApproval is set, and components, when not
	// nil, the only components listed: those the caller may decide for (the service fills both).
	awaitingBy string
	components []string
	// awaitingAt is now when AwaitingMyApproval is set: a request past its expiry waits no more.
	awaitingAt time.Time
}

// Page is a page of requests, newest first.
type Page struct {
	Requests []Request
	// Cursors are each request's cursor, for after.
	Cursors     []string
	TotalCount  int64
	HasNextPage bool
	EndCursor   string
}

// MaxPage bounds a page of requests.
const MaxPage = 100

func (s *records) list(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if first < 0 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 0 and %d, got %d", MaxPage, first)
	}
	q := s.st.DB(ctx).Model(&requestRow{})
	if f.Component != "" {
		q = q.Where("component_ref = ?", f.Component)
	}
	if f.Environment != "" {
		q = q.Where("environment = ?", f.Environment)
	}
	if len(f.States) > 0 {
		q = q.Where("state IN ?", stateStrings(f.States))
	}
	if f.Requester != "" {
		q = q.Where("requester = ?", f.Requester)
	}
	if f.awaitingBy != "" {
		q = q.Where("state = ? AND requester <> ? AND (expires_at IS NULL OR expires_at > ?)", string(Requested), f.awaitingBy, f.awaitingAt)
	}
	if f.components != nil {
		if len(f.components) == 0 {
			return &Page{}, nil
		}
		q = q.Where("component_ref IN ?", f.components)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, store.Translate(err, "deploy requests")
	}
	if after != "" {
		id, err := strconv.ParseInt(after, 10, 64)
		if err != nil || id <= 0 {
			return nil, errs.InvalidField("after", "%q is not a cursor of this list", clip(after))
		}
		q = q.Where("id < ?", id)
	}
	var rows []requestRow
	if err := q.Order("id DESC").Limit(first + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "deploy requests")
	}
	p := &Page{TotalCount: total}
	if len(rows) > first {
		p.HasNextPage = true
		rows = rows[:first]
	}
	p.Requests = toRequests(rows)
	p.Cursors = make([]string, len(rows))
	for i, r := range rows {
		p.Cursors[i] = strconv.FormatInt(r.ID, 10)
	}
	if n := len(rows); n > 0 {
		p.EndCursor = strconv.FormatInt(rows[n-1].ID, 10)
	}
	return p, nil
}
