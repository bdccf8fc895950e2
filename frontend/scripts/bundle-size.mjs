// Measures the JavaScript each route needs before it can show anything (the entry, the route's
// own chunk and everything they import statically, gzipped) and fails the build when the heaviest
// route is over the budget of issue #14. Widgets loaded after the first paint are not counted.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 200 * 1024;
const manifest = JSON.parse(readFileSync('dist/.vite/manifest.json', 'utf8'));
const gz = (file) => gzipSync(readFileSync(`dist/${file}`), { level: 9 }).length;

function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const dep of manifest[key].imports ?? []) closure(dep, seen);
  return seen;
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const routes = Object.keys(manifest).filter((k) => manifest[k].isDynamicEntry && /features\/|NotFound/.test(k));
let worst = { route: '', size: 0 };
const entrySize = [...closure(entry)].reduce((n, k) => n + gz(manifest[k].file), 0);
console.log(`shell (entry and its imports): ${(entrySize / 1024).toFixed(1)} KB gzipped`);
for (const r of routes) {
  const keys = closure(r, closure(entry));
  const size = [...keys].reduce((n, k) => n + gz(manifest[k].file), 0);
  console.log(`  ${r}: ${(size / 1024).toFixed(1)} KB gzipped with the shell`);
  if (size > worst.size) worst = { route: r, size };
}
console.log(`initial route JavaScript, heaviest route (${worst.route}): ${(worst.size / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (worst.size > BUDGET) {
  console.error('over budget: split more code out of the initial route');
  process.exit(1);
}
