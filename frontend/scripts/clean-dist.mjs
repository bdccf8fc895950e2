// Removes the last build from dist/, keeping the tracked placeholder (see vite.config.ts).
import { readdirSync, rmSync } from 'node:fs';
for (const name of readdirSync('dist')) {
  if (name !== '.gitkeep') rmSync(`dist/${name}`, { recursive: true, force: true });
}
