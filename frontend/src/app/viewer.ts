import { createContext, use, useContext } from 'react';

/** The signed-in person, as the shell loaded them. */
export interface Viewer {
  username: string;
  displayName?: string | null;
  admin: boolean;
  groups: string[];
  user?: { ref: string } | null;
}

/** The viewer once known; until then (the shell's query in flight) a promise of them. */
export interface ViewerState {
  viewer: Viewer | null;
  ready: Promise<Viewer>;
}

export const ViewerContext = createContext<ViewerState | null>(null);

/**
 * The signed-in person. Pages render while the shell still asks who that is, so that their own
 * queries run beside the shell's rather than after it; a page that needs the viewer suspends
 * until the shell knows.
 */
export function useViewer(): Viewer {
  const v = useContext(ViewerContext);
  if (!v) throw new Error('useViewer outside the signed-in shell');
  return v.viewer ?? use(v.ready);
}
