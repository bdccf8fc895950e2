import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { DoraChart, weekLabel } from './DoraChart';
import { weekBoundaries } from './DoraSection';

const weeks = [
  { since: '2026-10-08T12:00:00.000Z', deployments: 0 },
  { since: '2026-10-15T12:00:00.000Z', deployments: 3 },
  { since: '2026-10-22T12:00:00.000Z', deployments: 7 },
  { since: '2026-10-29T12:00:00.000Z', deployments: 1 },
];

describe('DoraChart', () => {
  it('has a table with every week and its deployments as its text alternative', () => {
    const { container } = render(<DoraChart weeks={weeks} />);
    container.querySelector('details')!.open = true; // the table is behind a disclosure
    const table = screen.getByRole('table', { name: 'Deployments per week' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(['Oct 80', 'Oct 153', 'Oct 227', 'Oct 291']);
    expect(within(rows[2]).getByRole('rowheader').textContent).toBe('Oct 22');
    expect(within(rows[2]).getByRole('cell').textContent).toBe('7');
  });

  it('names the chart with a summary of what it shows', () => {
    render(<DoraChart weeks={weeks} />);
    expect(screen.getByRole('img', { name: 'Deployments per week, the last 4 weeks: 11 in all, at most 7 in one week.' })).toBeTruthy();
  });

  it('draws one bar per week, the tallest for the busiest week and none for an empty one', () => {
    const { container } = render(<DoraChart weeks={weeks} />);
    const heights = [...container.querySelectorAll('rect.dora-bar')].map((r) => Number(r.getAttribute('height')));
    expect(heights).toHaveLength(4);
    expect(heights[0]).toBe(0);
    expect(Math.max(...heights)).toBe(heights[2]);
    expect(heights[3]).toBeGreaterThan(0);
  });

  it('says so when nothing was deployed', () => {
    render(<DoraChart weeks={weeks.map((w) => ({ ...w, deployments: 0 }))} />);
    expect(screen.getByRole('img', { name: 'No successful deployment in the last 4 weeks.' })).toBeTruthy();
  });
});

describe('weekBoundaries', () => {
  it('gives nine boundaries a week apart ending at the minute', () => {
    const b = weekBoundaries(Date.parse('2026-12-03T11:22:33.444Z'));
    expect(Object.keys(b)).toHaveLength(9);
    expect(b.b8).toBe('2026-12-03T11:22:00.000Z');
    expect(b.b7).toBe('2026-11-26T11:22:00.000Z');
    expect(b.b0).toBe('2026-10-08T11:22:00.000Z');
    expect(weekLabel(b.b0)).toBe('Oct 8');
  });
});
