import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { StageList } from './StageList';

describe('the stage list', () => {
  it('shows the stages in order, SKIPPED after a FAILED one', () => {
    render(
      <StageList
        stages={[
          { name: 'Build', status: 'SUCCEEDED', startedAt: '2026-12-03T09:00:00Z', finishedAt: '2026-12-03T09:00:42Z', durationSeconds: 42, logUrl: 'https://ci.example/1/build' },
          { name: 'Test', status: 'FAILED', startedAt: '2026-12-03T09:00:42Z', finishedAt: '2026-12-03T09:01:12Z', durationSeconds: 30, logUrl: null },
          { name: 'Container build', status: 'SKIPPED' },
          { name: 'Release', status: 'SKIPPED' },
        ]}
      />,
    );
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('rowheader').textContent)).toEqual(['Build', 'Test', 'Container build', 'Release']);
    expect(rows.map((r) => r.getAttribute('data-status'))).toEqual(['SUCCEEDED', 'FAILED', 'SKIPPED', 'SKIPPED']);
    expect(within(rows[1]).getByText('FAILED')).toBeTruthy();
    expect(within(rows[2]).getByText('SKIPPED')).toBeTruthy();
    expect(within(rows[0]).getByText('42 s')).toBeTruthy();
    // Skipped stages never ran: no start, finish or duration.
    expect(within(rows[2]).getAllByText('—').length).toBeGreaterThanOrEqual(3);
    expect(within(rows[0]).getByRole('link', { name: 'Log of Build' }).getAttribute('href')).toBe('https://ci.example/1/build');
  });

  it('says when the provider has reported no stage', () => {
    render(<StageList stages={[]} />);
    expect(screen.getByText(/not reported any stage/)).toBeTruthy();
  });
});

describe('a run label', () => {
  it('is the run number from the global ID', async () => {
    const { runLabel } = await import('./fields');
    expect(runLabel('UGlwZWxpbmVSdW46MQ')).toBe('#1');
    expect(runLabel('not an id')).toBe('not an id');
  });
});
