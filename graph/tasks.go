package graph

// Helpers of the tasks resolvers: payloads, the import's problems, table formats.

import (
	"errors"

	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/tasks"
)

// taskPayload answers a task mutation.
func taskPayload(t tasks.Task, err error) (*model.TaskPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.TaskPayload{Task: model.NewTask(t)}, nil
}

// importPayload answers importTasks: the table's problems (row by row, column by column) are
// the payload's errors, not a GraphQL error, so that a client shows them all beside the table.
func importPayload(res tasks.ImportResult, err error) (*model.ImportTasksPayload, error) {
	var problems *tasks.ImportErrors
	if errors.As(err, &problems) {
		return model.NewImportTasksPayload(tasks.ImportResult{}, problems.Errors), nil
	}
	if err != nil {
		return nil, err
	}
	return model.NewImportTasksPayload(res, nil), nil
}

// tableFormat converts a table format argument (MARKDOWN when not given).
func tableFormat(f *model.TaskTableFormat) tasks.Format {
	if f == nil {
		return tasks.Markdown
	}
	return tasks.Format(*f)
}

// taskList reads the task and the bounded first argument of one of its lists.
func taskList(obj *model.Task, first *int) (int64, int, error) {
	limit, err := relationLimit(first)
	if err != nil {
		return 0, 0, err
	}
	id, err := model.NumericID("id", "Task", obj.ID)
	return id, limit, err
}

// projectOf is the part of a project the rule of who changes its tasks reads.
func projectOf(obj *model.Project) tasks.Project {
	return tasks.Project{Name: obj.Name, Owner: obj.Owner, Members: obj.Members}
}
