// The portal's performance (issue #14) in headless Chromium: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), against a real `portside serve --demo` on a temp
// SQLite database holding the `make bench` catalog (bench/gencatalog, 16,850 entities) besides the
// demo's, signed in as bob through the development login. After warming the server it measures,
// over REPS repetitions, medians and p95 of:
//
//   1. catalog explorer: a hard navigation to /catalog until the first result rows are in the
//      document and the next animation frame has begun (the user-visible definition: rows on
//      screen), from navigation start (performance.timeOrigin); the largest contentful paint too;
//   2. component page: a hard navigation to /catalog/default/component/NAME (rotating through the
//      generator's queries.json components) until the entity's About section is in the document
//      and the next frame has begun; LCP too;
//   3. search keystroke: typing the generator's search words one key at a time (150 ms apart, a
//      quick typist), from each key's keydown (event.timeStamp) until the results for the text
//      up to that key are rendered (the results section's data-results-for says which text its
//      rows answer) and the next frame has begun; a keystroke whose results were overtaken by the
//      next one before being shown is counted apart;
//   4. rollout event: a scripted Argo CD (bench/portalargo over rollouts/argocd/argocdtest, followed
//      by the server through portside-argocd as in production) changes a deployed component's
//      running operation message while its page is open; from the wall-clock time just before the
//      change until the new message is in the document and the next frame has begun
//      (performance.timeOrigin + performance.now(), the same machine's clock).
//
// Initial route JavaScript (gzipped) is the build's own figure (scripts/bundle-size.mjs).
// Nothing here asserts on time: it reports.
//
// Usage: npm run bench (make bench-portal). PORTSIDE_BIN=path reuses a built binary (it must embed
// the current build), BENCH_CATALOG=dir reuses a generated catalog, REPS=n (default 20),
// MEASURE=nav,keys,rollout (the default: all) picks what to measure.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitHealthy, launchChromium, startPortalArgo } from '../e2e/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const REPS = Number(process.env.REPS ?? 20);
const TYPE_DELAY = Number(process.env.TYPE_DELAY ?? 150);
const MEASURE = new Set((process.env.MEASURE ?? 'nav,keys,rollout').split(','));

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
const fmt = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '—');
function summary(name, xs) {
  return { name, n: xs.length, median: quantile(xs, 0.5), p95: quantile(xs, 0.95), min: Math.min(...xs), max: Math.max(...xs) };
}

// Runs in every page before its scripts: records when a condition first holds in the document
// (then waits for the next animation frame) and the largest contentful paint.
const INIT = `
  window.__bench = { lcp: 0, marks: {}, seen: {}, texts: {}, want: '' };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.lcp = e.startTime; })
    .observe({ type: 'largest-contentful-paint', buffered: true });
  const conditions = {
    rows: () => document.querySelector('section.results table tbody tr'),
    about: () => document.getElementById('about'),
  };
  const check = () => {
    for (const [k, f] of Object.entries(conditions)) {
      if (!(k in window.__bench.marks) && f()) {
        window.__bench.marks[k] = null;
        requestAnimationFrame(() => { window.__bench.marks[k] = performance.now(); });
      }
    }
    const want = window.__bench.want;
    if (want && !(want in window.__bench.texts) && document.body && document.body.textContent.includes(want)) {
      window.__bench.texts[want] = null;
      requestAnimationFrame(() => { window.__bench.texts[want] = performance.timeOrigin + performance.now(); });
    }
    const r = document.querySelector('section.results[data-results-for]');
    if (r) {
      const v = r.getAttribute('data-results-for');
      if (!(v in window.__bench.seen)) {
        window.__bench.seen[v] = null;
        requestAnimationFrame(() => { window.__bench.seen[v] = performance.now(); });
      }
    }
  };
  // When each GraphQL operation was sent and answered (its first time on this page), by name.
  window.__bench.ops = {};
  const origFetch = window.fetch;
  window.fetch = async function (input, init) {
    let op = '';
    try {
      op = new URL(String(input instanceof Request ? input.url : input), location.href).searchParams.get('operationName')
        || JSON.parse(String(init?.body ?? '{}')).operationName || '';
    } catch {}
    const start = performance.now();
    const res = await origFetch.apply(this, arguments);
    if (op && !(op in window.__bench.ops)) window.__bench.ops[op] = { start, end: performance.now() };
    return res;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-results-for'] });
`;

const tmp = mkdtempSync(join(tmpdir(), 'portside-portal-bench-'));
let server;
let browser;
let argo;
const log = [];
try {
  let bin = process.env.PORTSIDE_BIN;
  if (!bin) {
    bin = join(tmp, 'portside');
    console.log('building portside…');
    execFileSync('go', ['build', '-o', bin, './cmd/portside'], { cwd: repo, stdio: 'inherit' });
    // serve starts its Argo CD companion from beside its own binary.
    execFileSync('go', ['build', '-o', join(tmp, 'portside-argocd'), './cmd/portside-argocd'], { cwd: repo, stdio: 'inherit' });
  }
  const argoBin = join(tmp, 'portalargo');
  execFileSync('go', ['build', '-o', argoBin, './bench/portalargo'], { cwd: repo, stdio: 'inherit' });
  let catalog = process.env.BENCH_CATALOG;
  if (!catalog || !existsSync(join(catalog, 'queries.json'))) {
    catalog = catalog ?? join(tmp, 'catalog');
    console.log(`generating the bench catalog into ${catalog}…`);
    execFileSync('go', ['run', './bench/gencatalog', '-out', catalog], { cwd: repo, stdio: 'inherit' });
  }
  const queries = JSON.parse(readFileSync(join(catalog, 'queries.json'), 'utf8'));
  const db = join(tmp, 'portside.db');
  const env = { ...process.env, PORTSIDE_CONFIG: '' };
  console.log('importing the catalog…');
  execFileSync(bin, ['--database', db, 'catalog', 'import', catalog], { cwd: tmp, env, stdio: ['ignore', 'ignore', 'inherit'] });

  // The scripted Argo CD: one application for each of a few deployed components.
  const deployed = queries.deployed.slice(0, 5).map((r) => r.slice(r.lastIndexOf('/') + 1));
  argo = await startPortalArgo(argoBin, deployed);
  const { addr: argoAddr, token: argoToken } = argo;
  env.PORTSIDE_ARGOCD_TOKENS = `bench=${argoToken}`;

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`, '--database', db, '--log-format', 'text', '--log-level', 'warn', '--argocd-instances', `bench=http://${argoAddr}`], {
    cwd: tmp,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => log.push(String(d)));
  server.stderr.on('data', (d) => log.push(String(d)));
  await waitHealthy(base, server);
  console.log(`portside serving on ${base}`);

  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(INIT);
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));

  // Sign in through the development login form.
  await page.goto(base + '/catalog');
  await page.waitForSelector('input[name=username]');
  await page.fill('input[name=username]', 'bob');
  await page.fill('input[name=password]', 'bob');
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.origin === base && !u.pathname.startsWith('/auth'));

  const components = queries.components.map((r) => r.slice(r.lastIndexOf('/') + 1));
  const words = queries.searchWords;

  async function navigate(path, mark) {
    await page.goto(base + path);
    await page.waitForFunction((m) => typeof window.__bench.marks[m] === 'number', mark, { timeout: 30000 });
    // LCP settles with the content; give it a frame or two.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    return page.evaluate((m) => {
      const n = performance.getEntriesByType('navigation')[0];
      // Where the time went: when the entry script, the route's chunk and the page's own query
      // (operationName=EntityPage or ExplorerResults) were asked for and answered.
      const res = performance.getEntriesByType('resource');
      const first = (re) => res.find((r) => re.test(r.name));
      const span = (r) => (r ? { start: r.startTime, end: r.responseEnd } : null);
      return {
        visible: window.__bench.marks[m],
        lcp: window.__bench.lcp,
        ttfb: n.responseStart,
        dcl: n.domContentLoadedEventEnd,
        entry: span(first(/\/assets\/index-[^/]*\.js$/)),
        chunk: span(first(m === 'about' ? /\/assets\/EntityPage-[^/]*\.js$/ : /\/assets\/CatalogPage-[^/]*\.js$/)),
        query: window.__bench.ops[m === 'about' ? 'EntityPage' : 'ExplorerResults'] ?? null,
        shell: window.__bench.ops.Shell ?? null,
      };
    }, mark);
  }

  // Warm the server and the browser's cache (hashed assets are immutable): a warm server.
  console.log('warming…');
  for (let i = 0; i < 5; i++) {
    await navigate('/catalog', 'rows');
    await navigate(`/catalog/default/component/${components[(i * 7) % components.length]}`, 'about');
  }

  const catalogRuns = [];
  const componentRuns = [];
  console.log(`measuring navigations (${REPS} each)…`);
  for (let i = 0; MEASURE.has('nav') && i < REPS; i++) {
    catalogRuns.push(await navigate('/catalog', 'rows'));
    componentRuns.push(await navigate(`/catalog/default/component/${components[i % components.length]}`, 'about'));
  }

  // Search as you type.
  console.log(`measuring keystrokes (${REPS} words, ${TYPE_DELAY} ms apart)…`);
  await navigate('/catalog', 'rows');
  const box = page.getByRole('searchbox', { name: /search/i });
  await page.evaluate(() => {
    window.__keys = [];
    document.addEventListener('keydown', (e) => window.__keys.push(e.timeStamp), true);
  });
  const keyLatency = [];
  let overtaken = 0;
  let keystrokes = 0;
  for (let i = 0; MEASURE.has('keys') && i < REPS; i++) {
    const word = words[i % words.length];
    await box.fill('');
    await page.waitForSelector('section.results[data-results-for=""]');
    await page.evaluate(() => {
      window.__keys = [];
      window.__bench.seen = {};
    });
    await box.pressSequentially(word, { delay: TYPE_DELAY });
    await page.waitForFunction((w) => typeof window.__bench.seen[w] === 'number', word, { timeout: 30000 });
    await page.waitForTimeout(50);
    const { keys, seen } = await page.evaluate(() => ({ keys: window.__keys, seen: window.__bench.seen }));
    for (let k = 0; k < word.length; k++) {
      keystrokes++;
      const t = seen[word.slice(0, k + 1)];
      if (typeof t === 'number' && keys[k] !== undefined) keyLatency.push(t - keys[k]);
      else overtaken++;
    }
  }

  // Rollout events on an open component page.
  console.log(`measuring rollout events (${REPS})…`);
  const rolloutLatency = [];
  const app = deployed[0];
  if (MEASURE.has('rollout')) {
    await navigate(`/catalog/default/component/${app}`, 'about');
    await page.getByText('waiting').first().waitFor({ timeout: 60000 });
    await page.waitForTimeout(500); // the subscriptions are open
  }
  for (let i = 0; MEASURE.has('rollout') && i < REPS; i++) {
    const msg = `bench-step-${i}-${Date.now()}`;
    await page.evaluate((m) => { window.__bench.want = m; }, msg);
    const at = Number(await argo.ask(`${app} ${msg}`)) / 1000;
    await page.waitForFunction((m) => typeof window.__bench.texts[m] === 'number', msg, { timeout: 30000 });
    const shown = await page.evaluate((m) => window.__bench.texts[m], msg);
    rolloutLatency.push(shown - at);
    await page.waitForTimeout(200);
  }

  const rows = [
    summary('catalog explorer: first result rows visible', catalogRuns.map((r) => r.visible)),
    summary('catalog explorer: largest contentful paint', catalogRuns.map((r) => r.lcp)),
    summary('catalog explorer: response start (TTFB)', catalogRuns.map((r) => r.ttfb)),
    summary('component page: About visible', componentRuns.map((r) => r.visible)),
    summary('component page: largest contentful paint', componentRuns.map((r) => r.lcp)),
    summary('search keystroke to its results rendered', keyLatency),
    summary('rollout event (Argo CD) to the screen', rolloutLatency),
  ];
  // The component page's waterfall, medians over the runs (ms after navigation start).
  const phase = (f) => quantile(componentRuns.map(f).filter((x) => Number.isFinite(x)), 0.5);
  const waterfall = [
    ['response start (TTFB)', phase((r) => r.ttfb)],
    ['entry script answered', phase((r) => r.entry?.end)],
    ['DOMContentLoaded (entry ran)', phase((r) => r.dcl)],
    ['route chunk asked', phase((r) => r.chunk?.start)],
    ['route chunk answered', phase((r) => r.chunk?.end)],
    ['Shell query sent', phase((r) => r.shell?.start)],
    ['Shell query answered', phase((r) => r.shell?.end)],
    ['EntityPage query sent', phase((r) => r.query?.start)],
    ['EntityPage query answered', phase((r) => r.query?.end)],
    ['About visible', phase((r) => r.visible)],
  ];
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo }).toString().trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo }).toString().trim() ? '+dirty' : '';
  console.log(`\n${new Date().toISOString()} commit ${commit}${dirty}, ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`catalog: ${queries.components.length} sample components, ${words.length} search words; ${REPS} repetitions\n`);
  console.log('| measure | n | median | p95 | min | max |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows.filter((r) => r.n)) console.log(`| ${r.name} | ${r.n} | ${fmt(r.median)} | ${fmt(r.p95)} | ${fmt(r.min)} | ${fmt(r.max)} |`);
  if (componentRuns.length) {
    console.log('\ncomponent page, where the time goes (medians, ms after navigation start):');
    for (const [name, t] of waterfall) console.log(`  ${name.padEnd(32)} ${fmt(t)}`);
  }
  console.log(`\nkeystrokes: ${keystrokes}, of which ${overtaken} had their results overtaken by the next key before being shown`);
  if (problems.length) console.log(`page errors: ${problems.join('; ')}`);
} catch (e) {
  console.error(e);
  console.error(log.join('').slice(-3000));
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (argo && argo.proc.exitCode === null) argo.proc.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
