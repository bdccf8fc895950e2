import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// jsdom has no CSS.escape, which react-aria uses to look up <meta> settings.
const g = globalThis as unknown as { CSS?: { escape?: (s: string) => string } };
g.CSS ??= {};
g.CSS.escape ??= (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);

afterEach(() => cleanup());

// findBy*/waitFor wait for a state, not for a time: their default deadline of 1 s is shorter
// than a lazily loaded page takes on a loaded 2-core machine (the catalog deep-link test failed
// there twice in four runs), so the deadline is generous and a passing test still ends at once.
configure({ asyncUtilTimeout: 10_000 });
