import { useId, type MouseEvent } from 'react';
import { useNavigate } from 'react-router';
import { entityPath, shortRef } from '../../lib/format';

/** One related entity as the entity page's query has it. */
export interface GraphItem {
  ref: string;
  name: string;
  title?: string | null;
}

/** How a relation is drawn: which way its arrows point, relative to the entity the page shows. */
export type RelationKind = 'dependsOn' | 'dependent' | 'provides' | 'consumes' | 'system';

/** One relation of the entity: its label, its kind, and the related entities the query returned. */
export interface RelationGroup {
  label: string;
  kind: RelationKind;
  items: GraphItem[];
  /** The query asked for at most this many: a full list may have more behind it. */
  fetchLimit?: number;
}

/** Where one node of the graph is drawn (viewBox units). */
export interface PlacedNode {
  key: string;
  kind: RelationKind;
  x: number;
  y: number;
  /** A related entity (a link), or the "and K more" of its relation (text, with more). */
  item?: GraphItem;
  more?: number;
  /** Whether more means "K or more" (the query's limit was reached). */
  atLeast?: boolean;
}

export interface PlacedLabel {
  text: string;
  x: number;
  y: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  center: { x: number; y: number };
  nodes: PlacedNode[];
  labels: PlacedLabel[];
}

export const NODE_W = 190;
export const NODE_H = 28;
const ROW = 36;
const LABEL_ROW = 24;
const PAD = 12;
export const GRAPH_W = 3 * NODE_W + 4 * PAD + 2 * 40;

// Entities the page depends on sit right of it (arrows point right, away from it); the ones that
// depend on it, and its system, left of it.
const RIGHT: RelationKind[] = ['dependsOn', 'provides', 'consumes'];

/**
 * Places the entity in the middle and, for each relation, at most limit of its entities in a
 * column beside it, followed by one "and K more" node when the relation has more. Pure, so the
 * bounds are tested without a browser.
 */
export function layoutGraph(groups: RelationGroup[], limit: number): GraphLayout {
  const sides: Record<'left' | 'right', { nodes: PlacedNode[]; labels: PlacedLabel[]; y: number }> = {
    left: { nodes: [], labels: [], y: PAD },
    right: { nodes: [], labels: [], y: PAD },
  };
  for (const g of groups) {
    if (g.items.length === 0) continue;
    const side = RIGHT.includes(g.kind) ? sides.right : sides.left;
    const x = side === sides.right ? GRAPH_W - PAD - NODE_W : PAD;
    side.labels.push({ text: g.label, x, y: side.y + 14 });
    side.y += LABEL_ROW;
    const shown = g.items.slice(0, Math.max(0, limit));
    for (const item of shown) {
      side.nodes.push({ key: `${g.kind}:${item.ref}`, kind: g.kind, x, y: side.y, item });
      side.y += ROW;
    }
    const more = g.items.length - shown.length;
    if (more > 0) {
      side.nodes.push({ key: `${g.kind}:more`, kind: g.kind, x, y: side.y, more, atLeast: g.fetchLimit != null && g.items.length >= g.fetchLimit });
      side.y += ROW;
    }
    side.y += PAD / 2;
  }
  const height = Math.max(sides.left.y, sides.right.y, NODE_H + 2 * PAD) + PAD;
  return {
    width: GRAPH_W,
    height,
    center: { x: (GRAPH_W - NODE_W) / 2, y: (height - NODE_H) / 2 },
    nodes: [...sides.left.nodes, ...sides.right.nodes],
    labels: [...sides.left.labels, ...sides.right.labels],
  };
}

/** The text alternative of the graph: what each relation holds, in words. */
export function describeGraph(name: string, groups: RelationGroup[]): string {
  const parts = groups
    .filter((g) => g.items.length > 0)
    .map((g) => {
      const n = g.items.length;
      const more = g.fetchLimit != null && n >= g.fetchLimit ? ' or more' : '';
      return `${g.label.toLowerCase()}: ${n}${more} (${g.items.slice(0, 3).map((i) => i.title ?? i.name).join(', ')}${n > 3 ? ', …' : ''})`;
    });
  return parts.length === 0 ? `${name} has no relations to draw.` : `${name}: ${parts.join('; ')}.`;
}

function clip(s: string, n = 24): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * A small dependency graph of an entity's relations, drawn by hand in SVG (no graph library).
 * Its nodes are links to the related entities; its figcaption says in words what it shows, and
 * the Relations lists beside it hold every entity.
 */
export function DependencyGraph({ name, groups, limit = 5 }: { name: string; groups: RelationGroup[]; limit?: number }) {
  const navigate = useNavigate();
  const id = useId();
  const arrow = `arrow-${id.replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const layout = layoutGraph(groups, limit);
  const { center } = layout;
  const follow = (to: string) => (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // a new tab or window: the browser's
    e.preventDefault();
    navigate(to);
  };
  const edge = (n: PlacedNode) => {
    const right = n.x > center.x;
    const near = { x: right ? center.x + NODE_W : center.x, y: center.y + NODE_H / 2 };
    const far = { x: right ? n.x : n.x + NODE_W, y: n.y + NODE_H / 2 };
    // Arrows point from the dependent to what it depends on, provides, consumes or belongs to.
    const [from, to] = n.kind === 'dependent' ? [far, near] : [near, far];
    return (
      <line key={`e-${n.key}`} className={`graph-edge graph-edge-${n.kind}`} x1={from.x} y1={from.y} x2={to.x} y2={to.y} markerEnd={`url(#${arrow})`} />
    );
  };
  return (
    <figure className="graph">
      <svg className="graph-svg" viewBox={`0 0 ${layout.width} ${layout.height}`} role="group" aria-label={`Dependency graph of ${name}`}>
        <defs>
          <marker id={arrow} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path className="graph-arrow" d="M 0 0 L 10 5 L 0 10 z" />
          </marker>
        </defs>
        {layout.nodes.map(edge)}
        {layout.labels.map((l) => (
          <text key={`l-${l.text}-${l.x}`} className="graph-label" x={l.x} y={l.y} aria-hidden="true">
            {l.text}
          </text>
        ))}
        <g className="graph-node graph-center" aria-hidden="true">
          <rect x={center.x} y={center.y} width={NODE_W} height={NODE_H} rx={6} />
          <text x={center.x + NODE_W / 2} y={center.y + NODE_H / 2 + 5} textAnchor="middle">
            {clip(name)}
          </text>
        </g>
        {layout.nodes.map((n) => {
          const rel = groups.find((g) => g.kind === n.kind)?.label ?? '';
          if (n.item) {
            const to = entityPath(n.item.ref);
            const label = n.item.title ?? n.item.name;
            return (
              <a key={n.key} href={to} onClick={follow(to)} className="graph-node graph-link" aria-label={`${rel}: ${label} (${shortRef(n.item.ref)})`}>
                <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx={6} />
                <text x={n.x + 10} y={n.y + NODE_H / 2 + 5}>
                  {clip(label)}
                </text>
              </a>
            );
          }
          return (
            <g key={n.key} className="graph-node graph-more">
              <text x={n.x + 10} y={n.y + NODE_H / 2 + 5}>
                {`and ${n.more}${n.atLeast ? ' or' : ''} more`}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">{describeGraph(name, groups)}</figcaption>
    </figure>
  );
}
