-- Status-meeting tasks: projects (owned by a catalog Group, members as JSON list of User refs),
-- their tasks, each task's links (one row per link, so tasks can be found by linked component),
-- its comment thread and its history (one row per changed field: who, when, old -> new), written
-- in the same transaction as the change. title_key (the title lower-cased, spaces collapsed) is
-- unique per project: an imported table row updates the task with its title. version counts a
-- task's changes; an update made against an older version is refused (optimistic concurrency).
-- A meeting is a dated snapshot of its project's table (task_meeting_rows, one row per task as it
-- stood; task_id has no foreign key, so a deleted task stays in the meetings that saw it), which
-- "what changed since the last meeting" compares; what a meeting found changed since the one
-- before is kept with it (task_meeting_changes), fixed when the meeting is recorded.

-- +goose Up
CREATE TABLE task_projects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT      NOT NULL,
    title      TEXT      NOT NULL DEFAULT '',
    owner_ref  TEXT      NOT NULL,
    members    TEXT      NOT NULL DEFAULT '[]',
    created_by TEXT      NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version    INTEGER   NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX task_projects_name ON task_projects (name);

CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   INTEGER   NOT NULL REFERENCES task_projects (id),
    title        TEXT      NOT NULL,
    title_key    TEXT      NOT NULL,
    priority     TEXT      NOT NULL,
    assignee_ref TEXT      NOT NULL DEFAULT '',
    status       TEXT      NOT NULL,
    comment      TEXT      NOT NULL DEFAULT '',
    due_on       TEXT      NOT NULL DEFAULT '',
    labels       TEXT      NOT NULL DEFAULT '[]',
    created_by   TEXT      NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_by   TEXT      NOT NULL DEFAULT '',
    updated_at   TIMESTAMP NOT NULL,
    version      INTEGER   NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tasks_title ON tasks (project_id, title_key);
CREATE INDEX tasks_project ON tasks (project_id, id);
CREATE INDEX tasks_assignee ON tasks (assignee_ref, id);

CREATE TABLE task_links (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    PRIMARY KEY (task_id, kind, target)
);
CREATE INDEX task_links_target ON task_links (kind, target, task_id);

CREATE TABLE task_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author     TEXT      NOT NULL,
    body       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_comments_task ON task_comments (task_id, id);

CREATE TABLE task_changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id   INTEGER   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    actor     TEXT      NOT NULL,
    at        TIMESTAMP NOT NULL,
    field     TEXT      NOT NULL,
    old_value TEXT      NOT NULL DEFAULT '',
    new_value TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX task_changes_task ON task_changes (task_id, id);

CREATE TABLE task_meetings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER   NOT NULL REFERENCES task_projects (id),
    held_at    TIMESTAMP NOT NULL,
    notes      TEXT      NOT NULL DEFAULT '',
    created_by TEXT      NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX task_meetings_project ON task_meetings (project_id, held_at, id);

CREATE TABLE task_meeting_rows (
    meeting_id   INTEGER   NOT NULL REFERENCES task_meetings (id) ON DELETE CASCADE,
    task_id      INTEGER   NOT NULL,
    position     INTEGER   NOT NULL,
    title        TEXT      NOT NULL,
    priority     TEXT      NOT NULL,
    assignee_ref TEXT      NOT NULL DEFAULT '',
    status       TEXT      NOT NULL,
    comment      TEXT      NOT NULL DEFAULT '',
    PRIMARY KEY (meeting_id, task_id)
);

CREATE TABLE task_meeting_changes (
    meeting_id INTEGER   NOT NULL REFERENCES task_meetings (id) ON DELETE CASCADE,
    position   INTEGER   NOT NULL,
    task_id    INTEGER   NOT NULL,
    title      TEXT      NOT NULL,
    kind       TEXT      NOT NULL,
    old_value  TEXT      NOT NULL DEFAULT '',
    new_value  TEXT      NOT NULL DEFAULT '',
    PRIMARY KEY (meeting_id, position)
);

-- +goose Down
DROP TABLE task_meeting_changes;
DROP TABLE task_meeting_rows;
DROP TABLE task_meetings;
DROP TABLE task_changes;
DROP TABLE task_comments;
DROP TABLE task_links;
DROP TABLE tasks;
DROP TABLE task_projects;
