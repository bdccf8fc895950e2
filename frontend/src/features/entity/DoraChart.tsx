import { useId } from 'react';

/** Deployments that finished successfully in one week, starting at since. */
export interface WeekCount {
  since: string;
  deployments: number;
}

const W = 320;
const H = 96;
const AXIS = 16;

const day = new Intl.DateTimeFormat('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** The week's label, e.g. "Nov 3", in UTC like the server's windows. */
export function weekLabel(since: string): string {
  return day.format(new Date(since));
}

/**
 * Deployments per week as small bars (inline SVG, no chart library), with the same figures in a
 * table for screen readers and anyone who wants the numbers: the chart is the picture, the table
 * the text alternative.
 */
export function DoraChart({ weeks }: { weeks: WeekCount[] }) {
  const captionId = useId();
  const max = Math.max(1, ...weeks.map((w) => w.deployments));
  const total = weeks.reduce((n, w) => n + w.deployments, 0);
  const slot = weeks.length ? W / weeks.length : W;
  const barW = Math.max(4, slot * 0.6);
  const summary =
    total === 0
      ? `No successful deployment in the last ${weeks.length} weeks.`
      : `Deployments per week, the last ${weeks.length} weeks: ${total} in all, at most ${Math.max(...weeks.map((w) => w.deployments))} in one week.`;
  return (
    <div className="dora-chart">
      <svg className="dora-svg" viewBox={`0 0 ${W} ${H + AXIS}`} role="img" aria-labelledby={captionId}>
        <line className="dora-axis" x1={0} y1={H} x2={W} y2={H} />
        {weeks.map((w, i) => {
          const h = w.deployments === 0 ? 0 : Math.max(2, (w.deployments / max) * (H - 14));
          const x = i * slot + (slot - barW) / 2;
          return (
            <g key={w.since}>
              <rect className="dora-bar" x={x} y={H - h} width={barW} height={h} rx={2} />
              {w.deployments > 0 && (
                <text className="dora-value" x={x + barW / 2} y={H - h - 3} textAnchor="middle">
                  {w.deployments}
                </text>
              )}
              {(i === 0 || i === weeks.length - 1) && (
                <text className="dora-tick" x={x + barW / 2} y={H + AXIS - 3} textAnchor="middle">
                  {weekLabel(w.since)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <p id={captionId} className="muted dora-caption">
        {summary}
      </p>
      <details>
        <summary>Deployments per week as a table</summary>
        <table className="table">
          <caption className="visually-hidden">Deployments per week</caption>
          <thead>
            <tr>
              <th scope="col">Week of</th>
              <th scope="col">Deployments</th>
            </tr>
          </thead>
          <tbody>
            {weeks.map((w) => (
              <tr key={w.since}>
                <th scope="row">{weekLabel(w.since)}</th>
                <td>{w.deployments}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
