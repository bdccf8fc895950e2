// Where a catalog search keystroke's time goes (issue 14): a CPU profile of typing in the catalog
// explorer (CDP Profiler, sampled every 200 µs), and each key split by timestamps in the page:
// keydown -> the results request sent -> its response -> the results shown and the next frame
// (negative where the cache showed a text typed before, ahead of the network's answer).
// A tool for looking, not a benchmark (bench/run.mjs measures): the profiler itself costs time.
//
// Usage, against a database that already holds the bench catalog (`portside catalog import`):
//   PORTSIDE_BIN=path BENCH_DB=portside.db BENCH_CATALOG=dir [WORDS=12] [NOPROF=1] [OUT=keys.cpuprofile] \
//     node bench/profile-keys.mjs
// A portal built unminified (npx vite build --minify false, then go build) names the functions.
// It prints the slowest functions by self and by inclusive time; OUT keeps the profile for
// Chromium's DevTools (Performance panel: load profile).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { freePort, waitHealthy, launchChromium } from '../e2e/harness.mjs';
const bin = process.env.PORTSIDE_BIN;
const db = process.env.BENCH_DB;
const catalog = process.env.BENCH_CATALOG;
if (!bin || !db || !catalog) throw new Error('set PORTSIDE_BIN, BENCH_DB and BENCH_CATALOG (see the comment at the top)');
const NW = Number(process.env.WORDS ?? 12);
const queries = JSON.parse(readFileSync(catalog + '/queries.json', 'utf8'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`, '--database', db, '--log-level', 'warn'], { env: { ...process.env, PORTSIDE_CONFIG: '' }, stdio: 'inherit', cwd: tmpdir() });
let browser;
try {
  await waitHealthy(base, server);
  browser = await launchChromium();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(`
    window.__seen = {}; window.__fetches = {}; window.__rs = [];
    const ors = history.replaceState;
    history.replaceState = function () { const t0 = performance.now(); const r = ors.apply(this, arguments); window.__rs.push([Math.round(t0), +(performance.now() - t0).toFixed(1), String(arguments[2])]); return r; };
    const of = window.fetch;
    window.fetch = async function (input, init) {
      const u = String(input);
      let t = null;
      if (u.includes('ExplorerResults')) { try { t = JSON.parse(new URL(u, location.href).searchParams.get('variables')).filter?.text ?? ''; } catch {} }
      const start = performance.now();
      const r = await of.apply(this, arguments);
      if (t !== null) window.__fetches[t] = { start, headers: performance.now() };
      return r;
    };
    new MutationObserver(() => {
      const r = document.querySelector('section.results[data-results-for]');
      if (r) { const v = r.getAttribute('data-results-for'); if (!(v in window.__seen)) { window.__seen[v] = null; requestAnimationFrame(() => { window.__seen[v] = performance.now(); }); } }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-results-for'] });
  `);
  const page = await ctx.newPage();
  await page.goto(base + '/catalog');
  await page.fill('input[name=username]', 'bob');
  await page.fill('input[name=password]', 'bob');
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/auth'));
  await page.goto(base + '/catalog');
  await page.waitForSelector('section.results table tbody tr');
  const box = page.getByRole('searchbox', { name: /search/i });
  await page.evaluate(() => { window.__keys = []; document.addEventListener('keydown', (e) => window.__keys.push(e.timeStamp), true); });
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const words = queries.searchWords.slice(0, NW);
  // warm once
  for (const w of words.slice(0, 3)) { await box.fill(''); await box.pressSequentially(w, { delay: 150 }); await page.waitForTimeout(400); }
  const m0 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  if (!process.env.NOPROF) await cdp.send('Profiler.start');
  const lat = []; const parts = [];
  for (const word of words) {
    await box.fill('');
    await page.waitForSelector('section.results[data-results-for=""]');
    await page.evaluate(() => { window.__keys = []; window.__seen = {}; });
    await box.pressSequentially(word, { delay: 150 });
    await page.waitForFunction((w) => typeof window.__seen[w] === 'number', word, { timeout: 30000 });
    await page.waitForTimeout(50);
    const { keys, seen, fetches } = await page.evaluate(() => ({ keys: window.__keys, seen: window.__seen, fetches: window.__fetches }));
    for (let k = 0; k < word.length; k++) { const w = word.slice(0, k + 1); const t = seen[w]; if (typeof t === 'number') { lat.push(Math.round(t - keys[k])); const f = fetches[w]; if (f) parts.push([Math.round(f.start - keys[k]), Math.round(f.headers - f.start), Math.round(t - f.headers), Math.round(t - keys[k])]); } }
  }
  const { profile } = process.env.NOPROF ? { profile: { nodes: [], samples: [], timeDeltas: [] } } : await cdp.send('Profiler.stop');
  const m1 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  if (!process.env.NOPROF) writeFileSync(process.env.OUT ?? 'keys.cpuprofile', JSON.stringify(profile));
  console.log('URL writes (at ms, took ms, URL):', JSON.stringify(await page.evaluate(() => window.__rs)));
  console.log('per key: keydown->request sent, request->response, response->shown+frame, total (ms)'); for (const p of parts) console.log(p.join('\t'));
  const avg = (i) => (parts.reduce((a, p) => a + p[i], 0) / parts.length).toFixed(1); console.log('avg', avg(0), avg(1), avg(2), avg(3));
  lat.sort((a, b) => a - b);
  console.log('latencies', lat.join(' '));
  console.log('median', lat[Math.floor(lat.length / 2)], 'p95', lat[Math.ceil(0.95 * lat.length) - 1]);
  for (const k of ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'LayoutCount', 'RecalcStyleCount', 'Nodes', 'JSHeapUsedSize']) console.log(k, (m1[k] - m0[k]).toFixed(3), 'now', m1[k]);
  // self and inclusive time per function
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const dt = profile.timeDeltas;
  const incl = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const d = (dt[i + 1] ?? 0) / 1000;
    let n = byId.get(profile.samples[i]);
    const key = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
    self.set(key(n), (self.get(key(n)) ?? 0) + d);
    const seenKeys = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) { const k = key(byId.get(id)); if (!seenKeys.has(k)) { seenKeys.add(k); incl.set(k, (incl.get(k) ?? 0) + d); } }
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${v.toFixed(1).padStart(8)} ${k}`).join('\n');
  console.log('--- self ms\n' + top(self, 35));
  console.log('--- inclusive ms\n' + top(incl, 70));
} finally {
  await browser?.close();
  server.kill('SIGTERM');
}
