import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';

// jsdom has no CSS.escape, which react-aria uses to look up <meta> settings.
const g = globalThis as unknown as { CSS?: { escape?: (s: string) => string } };
g.CSS ??= {};
g.CSS.escape ??= (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);

afterEach(() => cleanup());
