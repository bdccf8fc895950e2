package graph

import (
	"context"
	"strconv"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
)

// readElsewhere are the types whose IDs Portside hands out but that are not Nodes (their lists are
// the caller's own, or not cached as Nodes are), each with the field that reads one: node(id:)
// said "not a Portside ID" of them.
var readElsewhere = map[string]string{
	"Runbook": "runbook(id:)", "Alert": "alert(id:)", "AuditRecord": "auditRecords", "ApiToken": "apiTokens",
	"Session": "sessions", "TaskComment": "Task.comments", "TaskSuggestion": "Task.suggestions",
}

// node resolves a global ID; an ID of something that does not exist gives null.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	typ, key, err := model.DecodeID(id)
	if err != nil {
		return nil, err
	}
	if field, ok := readElsewhere[typ]; ok {
		return nil, errs.InvalidField("id", "is the ID of %s, which is not a Node: read it with %s", model.WithArticle(typ), field)
	}
	if typ == "Location" {
		n, convErr := strconv.ParseInt(key, 10, 64)
		if convErr != nil {
			return nil, errs.InvalidField("id", "%q is not a Portside ID", id)
		}
		l, err := r.Catalog.Location(ctx, n)
		if errs.Is(err, errs.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return model.NewLocation(r.Catalog, *l), nil
	}
	if typ == "Rollout" {
		n, err := model.NumericID("id", "Rollout", id)
		if err != nil {
			return nil, err
		}
		ro, err := r.RolloutService.Rollout(ctx, n)
		if errs.Is(err, errs.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return model.NewRollout(ro), nil
	}
	if typ == "PipelineRun" {
		run, err := r.Query().PipelineRun(ctx, id)
		if run == nil || err != nil {
			return nil, err
		}
		return run, nil
	}
	if typ == "DeployRequest" {
		q, err := r.Query().DeployRequest(ctx, id)
		if q == nil || err != nil {
			return nil, err
		}
		return q, nil
	}
	if typ == "Task" {
		t, err := r.Query().Task(ctx, id)
		if t == nil || err != nil {
			return nil, err
		}
		return t, nil
	}
	if typ == "Meeting" {
		n, err := model.NumericID("id", "Meeting", id)
		if err != nil {
			return nil, err
		}
		m, err := r.TaskService.Meeting(ctx, n)
		if errs.Is(err, errs.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return model.NewMeeting(m), nil
	}
	if typ == "Project" {
		n, err := model.NumericID("id", "Project", id)
		if err != nil {
			return nil, err
		}
		p, err := r.TaskService.ProjectByID(ctx, n)
		if errs.Is(err, errs.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return model.NewProject(p), nil
	}
	kind := model.KindOfTypename(typ)
	if kind == "" {
		return nil, errs.InvalidField("id", "%q is not a Portside ID", id)
	}
	ref, err := backstage.ParseRef(key, "", backstage.DefaultNamespace)
	if err != nil || !equalFold(ref.Kind, kind) {
		return nil, errs.InvalidField("id", "%q is not a Portside ID", id)
	}
	got, err := r.Catalog.EntitiesByRef(ctx, []backstage.Ref{ref})
	if err != nil || got[ref] == nil {
		return nil, err
	}
	return model.WrapEntity(got[ref], model.NewCohort(r.Catalog, []*backstage.Entity{got[ref]})), nil
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && backstage.CanonicalKind(a) == backstage.CanonicalKind(b)
}

// doraCost is the complexity of one DORA metrics field.
const doraCost = 50

// syncWindowsCost is the complexity of asking Argo CD for one deployment's sync windows.
const syncWindowsCost = 10
