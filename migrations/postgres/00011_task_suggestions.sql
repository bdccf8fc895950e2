-- Suggested status changes of tasks, from the delivery they are linked to: when a linked rollout
-- (or pipeline run) ends, its tasks get a suggestion (succeeded: Completed; failed or aborted:
-- Blocked, with the reason). A person accepts (the task changes, with history) or dismisses it;
-- nothing is applied silently. One suggestion per task, source and suggested status: the same
-- end reported again suggests nothing new.

-- +goose Up
CREATE TABLE task_suggestions (
    id            BIGSERIAL PRIMARY KEY,
    task_id       BIGINT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    source_kind   TEXT      NOT NULL,
    source_target TEXT      NOT NULL,
    status        TEXT      NOT NULL,
    reason        TEXT      NOT NULL DEFAULT '',
    state         TEXT      NOT NULL DEFAULT 'OPEN',
    created_at    TIMESTAMPTZ NOT NULL,
    decided_by    TEXT      NOT NULL DEFAULT '',
    decided_at    TIMESTAMPTZ NULL
);
CREATE UNIQUE INDEX task_suggestions_once ON task_suggestions (task_id, source_kind, source_target, status);

-- +goose Down
DROP INDEX task_suggestions_once;
DROP TABLE task_suggestions;
