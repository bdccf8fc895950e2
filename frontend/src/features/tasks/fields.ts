import { graphql } from '../../gql';
import type { TaskLinkKind, TaskPriority, TaskStatus } from '../../gql/graphql';
import { entityPath, shortRef } from '../../lib/format';

/** A row of the status-meeting table; the subscription selects the same, so the cache updates in place. */
export const TaskFields = graphql(`
  fragment TaskFields on Task {
    id
    project
    title
    priority
    assignee
    status
    comment
    due
    labels
    links { kind target }
    version
    updatedBy
    updatedAt
  }
`);

export const STATUSES: TaskStatus[] = ['NOT_STARTED', 'IN_PROGRESS', 'BLOCKED', 'COMPLETED'];
export const PRIORITIES: TaskPriority[] = ['HIGH', 'MEDIUM', 'LOW'];

/** How the meeting's table writes a status or a priority: "In Progress", "High". */
export function label(v: string): string {
  return v
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

export function statusTone(s: TaskStatus): 'neutral' | 'good' | 'warn' | 'bad' | 'info' {
  return s === 'COMPLETED' ? 'good' : s === 'BLOCKED' ? 'bad' : s === 'IN_PROGRESS' ? 'info' : 'neutral';
}

export function priorityTone(p: TaskPriority): 'neutral' | 'warn' | 'info' {
  return p === 'HIGH' ? 'warn' : p === 'MEDIUM' ? 'info' : 'neutral';
}

/** Sorting the table: by status and priority in the table's own order, not alphabetically. */
export const RANK: Record<string, number> = { NOT_STARTED: 0, IN_PROGRESS: 1, BLOCKED: 2, COMPLETED: 3, HIGH: 0, MEDIUM: 1, LOW: 2 };

export function projectPath(name: string): string {
  return `/projects/${encodeURIComponent(name)}`;
}
export function taskPath(id: string): string {
  return `/tasks/${encodeURIComponent(id)}`;
}

// Global IDs are base64url of "Type:key" (graph/model/ids.go): a link's number becomes the page's ID.
function globalID(type: string, key: string): string {
  return btoa(`${type}:${key}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Where a task's link leads in the portal (null: nowhere to go) and what it is called. */
export function linkTarget(kind: TaskLinkKind, target: string): { to: string | null; external?: boolean; text: string } {
  switch (kind) {
    case 'COMPONENT':
    case 'SYSTEM':
      return { to: entityPath(target), text: `${kind === 'COMPONENT' ? 'Component' : 'System'} ${shortRef(target)}` };
    case 'PIPELINE_RUN':
      return { to: `/pipelines/runs/${globalID('PipelineRun', target)}`, text: `Pipeline run #${target}` };
    case 'ROLLOUT':
      // Rollouts have no page of their own: they are shown on their component's page.
      return { to: null, text: `Rollout #${target}` };
    case 'RUNBOOK':
      if (/^https?:\/\//.test(target)) return { to: target, external: true, text: `Runbook ${target}` };
      // A runbook is named by its number or its global ID.
      return { to: `/runbooks/${/^\d+$/.test(target) ? globalID('Runbook', target) : encodeURIComponent(target)}`, text: `Runbook ${target}` };
    default:
      return { to: null, text: `${kind} ${target}` };
  }
}
