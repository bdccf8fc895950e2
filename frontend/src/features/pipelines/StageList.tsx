import { Badge, toneOf } from '../../components/Tag';
import { duration } from '../../lib/format';
import { secondsBetween, time } from './fields';

export interface Stage {
  name: string;
  status: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationSeconds?: number | null;
  logUrl?: string | null;
}

const label: Record<string, string> = { TIMED_OUT: 'TIMED OUT' };

/** A run's stages in the order they run: status, start, finish, duration, log. */
export function StageList({ stages, now = Date.now() }: { stages: Stage[]; now?: number }) {
  if (stages.length === 0) return <p className="muted">The provider has not reported any stage yet.</p>;
  return (
    <div className="table-scroll">
      <table className="table stage-table">
        <caption className="visually-hidden">Stages, in order</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Stage</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
            <th scope="col">Duration</th>
            <th scope="col">Log</th>
          </tr>
        </thead>
        <tbody>
          {stages.map((s, i) => {
            const running = s.status === 'RUNNING';
            const secs = s.durationSeconds ?? (running ? secondsBetween(s.startedAt, new Date(now).toISOString()) : secondsBetween(s.startedAt, s.finishedAt));
            return (
              <tr key={`${i}-${s.name}`} data-status={s.status} aria-current={running ? 'step' : undefined}>
                <td className="muted">{i + 1}</td>
                <th scope="row">{s.name}</th>
                <td>
                  <Badge tone={s.status === 'SKIPPED' ? 'neutral' : toneOf(s.status)}>{label[s.status] ?? s.status}</Badge>
                </td>
                <td>{s.startedAt ? <time dateTime={s.startedAt}>{time(s.startedAt)}</time> : '—'}</td>
                <td>{s.finishedAt ? <time dateTime={s.finishedAt}>{time(s.finishedAt)}</time> : '—'}</td>
                <td>{secs == null ? '—' : running ? `${duration(secs)} so far` : duration(secs)}</td>
                <td>
                  {s.logUrl ? (
                    <a href={s.logUrl} target="_blank" rel="noreferrer" aria-label={`Log of ${s.name}`}>
                      Log
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The stages as a compact row of chips, for lists. */
export function StageChips({ stages }: { stages: Stage[] }) {
  return (
    <ol className="steps stage-chips" aria-label="Stages">
      {stages.map((s, i) => (
        <li key={`${i}-${s.name}`} className={`stage-chip stage-${s.status.toLowerCase()}`}>
          {s.name}
          <span className="visually-hidden">: {label[s.status] ?? s.status}</span>
        </li>
      ))}
    </ol>
  );
}
