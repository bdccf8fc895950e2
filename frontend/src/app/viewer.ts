import { createContext, useContext } from 'react';

/** The signed-in person, as the shell loaded them. */
export interface Viewer {
  username: string;
  displayName?: string | null;
  admin: boolean;
  groups: string[];
  user?: { ref: string } | null;
}

export const ViewerContext = createContext<Viewer | null>(null);

export function useViewer(): Viewer {
  const v = useContext(ViewerContext);
  if (!v) throw new Error('useViewer outside the signed-in shell');
  return v;
}
