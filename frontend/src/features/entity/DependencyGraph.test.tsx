import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { DependencyGraph, describeGraph, layoutGraph, NODE_H, type RelationGroup } from './DependencyGraph';

const items = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ ref: `component:default/${prefix}-${i}`, name: `${prefix}-${i}`, title: null }));

const groups: RelationGroup[] = [
  { label: 'Depends on', kind: 'dependsOn', items: items('dep', 8), fetchLimit: 50 },
  { label: 'APIs provided', kind: 'provides', items: items('api', 2), fetchLimit: 50 },
  { label: 'Dependents', kind: 'dependent', items: items('user', 50), fetchLimit: 50 },
  { label: 'System', kind: 'system', items: [{ ref: 'system:default/payments', name: 'payments' }] },
  { label: 'APIs consumed', kind: 'consumes', items: [], fetchLimit: 50 },
];

function renderGraph(limit?: number) {
  const router = createMemoryRouter([{ path: '/', element: <DependencyGraph name="Payments API" groups={groups} limit={limit} /> }]);
  return render(<RouterProvider router={router} />);
}

describe('layoutGraph', () => {
  it('draws at most limit nodes of each relation and one "and K more" node for the rest', () => {
    const l = layoutGraph(groups, 5);
    const byKind = (k: string) => l.nodes.filter((n) => n.kind === k);
    expect(byKind('dependsOn').filter((n) => n.item)).toHaveLength(5);
    expect(byKind('dependsOn').find((n) => n.more)).toMatchObject({ more: 3, atLeast: false });
    expect(byKind('provides')).toHaveLength(2); // under the limit: no "more" node
    expect(byKind('dependent').filter((n) => n.item)).toHaveLength(5);
    // 50 is what the query asked for: there may be more behind it.
    expect(byKind('dependent').find((n) => n.more)).toMatchObject({ more: 45, atLeast: true });
    expect(byKind('consumes')).toHaveLength(0);
    expect(l.labels.map((x) => x.text).sort()).toEqual(['APIs provided', 'Dependents', 'Depends on', 'System']);
  });

  it('keeps every node inside the drawing, whatever the limit', () => {
    for (const limit of [0, 1, 5, 100]) {
      const l = layoutGraph(groups, limit);
      for (const n of l.nodes) {
        expect(n.x).toBeGreaterThanOrEqual(0);
        expect(n.y).toBeGreaterThanOrEqual(0);
        expect(n.y + NODE_H).toBeLessThanOrEqual(l.height);
      }
      expect(l.nodes.filter((n) => n.item).length).toBeLessThanOrEqual(Math.min(limit, 8) + Math.min(limit, 2) + Math.min(limit, 50) + Math.min(limit, 1));
    }
  });

  it('puts what the entity depends on right of it and what depends on it left', () => {
    const l = layoutGraph(groups, 3);
    for (const n of l.nodes) {
      if (n.kind === 'dependsOn' || n.kind === 'provides') expect(n.x).toBeGreaterThan(l.center.x);
      else expect(n.x).toBeLessThan(l.center.x);
    }
  });
});

describe('DependencyGraph', () => {
  it('makes each drawn entity a link to its page, named with its relation', () => {
    renderGraph(2);
    const graph = screen.getByRole('group', { name: 'Dependency graph of Payments API' });
    const links = graph.querySelectorAll('a');
    expect(links).toHaveLength(2 + 2 + 2 + 1);
    const dep = screen.getByRole('link', { name: 'Depends on: dep-0 (dep-0)' });
    expect(dep.getAttribute('href')).toBe('/catalog/default/component/dep-0');
    expect(screen.getByRole('link', { name: 'System: payments (payments)' }).getAttribute('href')).toBe('/catalog/default/system/payments');
    expect(graph.textContent).toContain('and 6 more');
    expect(graph.textContent).toContain('and 48 or more');
  });

  it('has a text alternative saying what each relation holds', () => {
    renderGraph();
    const caption = describeGraph('Payments API', groups);
    expect(screen.getByText(caption)).toBeTruthy();
    expect(caption).toContain('depends on: 8 (dep-0, dep-1, dep-2, …)');
    expect(caption).toContain('dependents: 50 or more');
    expect(caption).not.toContain('apis consumed');
    expect(describeGraph('Lonely', [])).toBe('Lonely has no relations to draw.');
  });

  it('draws entity names as text, never as markup', () => {
    const evil: RelationGroup[] = [{ label: 'Depends on', kind: 'dependsOn', items: [{ ref: 'component:default/x', name: 'x', title: '<img src=x onerror=alert(1)>' }] }];
    const router = createMemoryRouter([{ path: '/', element: <DependencyGraph name="<b>n</b>" groups={evil} /> }]);
    const { container } = render(<RouterProvider router={router} />);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
  });
});
