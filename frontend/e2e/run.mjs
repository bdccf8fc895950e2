// The portal end to end: Debian's chromium (driven by playwright-core, never a downloaded browser)
// against a real `portside serve --demo` (built into a temp dir, SQLite in it, a free port), signing
// in through the development login form as a demo owner (bob) and a viewer (carol); bob runs the
// demo's local `ci` pipeline and follows it live, and watches payments-api's canary move step by
// step on a scripted Argo CD (bench/portalargo -canary, followed through the portside-argocd
// companion as in production) and promotes it. axe-core runs on
// every page visited (no serious or critical violations); a Content-Security-Policy violation or an
// uncaught error on any page fails the run. Screenshots of every page, light and dark, at 1280 px
// and at a phone's width, go to docs/screenshots/ (SCREENSHOTS=0 skips them).
//
// Slack: a stub of Slack's Web API and response URLs (in this process) stands in for Slack; the
// run signs `/deploy link` as Slack does (v0 HMAC with the signing secret it gave portside), opens
// the link URL Portside answers with as bob, confirms, and Portside then knows that Slack user as
// bob; bob unlinks it. The project board: a project of 130 tasks seeded through the API, paged
// forward and back with the cursor in the URL.
//
// Usage: npm run e2e (make e2e-portal). PORTSIDE_BIN=path reuses a built binary (with
// portside-argocd beside it, or PORTSIDE_ARGOCD_CONNECTOR naming the companion).
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitHealthy, launchChromium, startPortalArgo } from './harness.mjs';
import { dialogShots, lostConnection, ownerActions, viewerActions } from './actions.mjs';
import { auditLog, keyboard } from './audit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const shots = join(repo, 'docs/screenshots');
const takeShots = process.env.SCREENSHOTS !== '0';
const axeSource = readFileSync(join(here, '../node_modules/axe-core/axe.min.js'), 'utf8');

const failures = [];
function check(cond, msg) {
  if (!cond) {
    failures.push(msg);
    console.error(`  ✗ ${msg}`);
  } else console.log(`  ✓ ${msg}`);
}

/**
 * Waits for what msg names (wait: a function returning a promise that settles when the state is
 * reached, such as a locator's waitFor) and records it; a wait that times out or fails is a
 * failed check that says what was waited for and why it ended, and the run goes on.
 */
async function waited(msg, wait) {
  try {
    await wait();
  } catch (e) {
    check(false, `${msg}: the wait ended without it (${String(e.message ?? e).split('\n')[0]})`);
    return false;
  }
  check(true, msg);
  return true;
}

const tmp = mkdtempSync(join(tmpdir(), 'portside-e2e-'));
// serve's TMPDIR: its temporary directories (the GitOps clones, the companion's socket, the local
// pipeline runs' logs, which outlive serve) go with tmp at the end, not into the host's temp dir.
const serveTmp = join(tmp, 'tmp');
mkdirSync(serveTmp);
let server;
let browser;
let argo;
try {
  let bin = process.env.PORTSIDE_BIN;
  if (!bin) {
    bin = join(tmp, 'portside');
    console.log('building portside…');
    execFileSync('go', ['build', '-o', bin, './cmd/portside'], { cwd: repo, stdio: 'inherit' });
    // serve starts its Argo CD companion from beside its own binary.
    execFileSync('go', ['build', '-o', join(tmp, 'portside-argocd'), './cmd/portside-argocd'], { cwd: repo, stdio: 'inherit' });
  }
  // The scripted Argo CD: payments-api deployed with an Argo Rollouts canary at its first step.
  const argoBin = join(tmp, 'portalargo');
  execFileSync('go', ['build', '-o', argoBin, './bench/portalargo'], { cwd: repo, stdio: 'inherit' });
  argo = await startPortalArgo(argoBin, ['-canary', 'payments-api']);
  const slack = await startSlackStub();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  if (takeShots) {
    // Cleared before the run: the scenarios write dialogs' screenshots as they go.
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
  }
  const shot = dialogShots(shots, takeShots);
  const startServe = () => spawn(bin, ['serve', '--demo', '--allow-loopback-locations', '--addr', `127.0.0.1:${port}`, '--database', join(tmp, 'portside.db'), '--log-format', 'text', '--argocd-instances', `scripted=http://${argo.addr}`], {
    cwd: tmp,
    env: {
      ...process.env,
      TMPDIR: serveTmp,
      PORTSIDE_CONFIG: '',
      PORTSIDE_ARGOCD_TOKENS: `scripted=${argo.token}`,
      PORTSIDE_SLACK_SIGNING_SECRET: slack.secret,
      PORTSIDE_SLACK_BOT_TOKEN: 'xoxb-e2e',
      PORTSIDE_SLACK_API_URL: `${slack.base}/api/`,
      PORTSIDE_SLACK_RESPONSE_URL_PREFIX: `${slack.base}/commands/`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const serve = async () => {
    server = startServe();
    server.stdout.on('data', (d) => log.push(String(d)));
    server.stderr.on('data', (d) => log.push(String(d)));
    await waitHealthy(base, server);
  };
  // Stopping and starting the server again on the same address and database (a deploy, a crash):
  // the browser's live connection is lost and comes back.
  const restart = {
    stop: async () => {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    },
    start: serve,
  };
  await serve();
  console.log(`portside serving on ${base}`);

  browser = await launchChromium();

  /** A page that records CSP violations and uncaught errors, and checks accessibility. */
  async function newPage(context) {
    const page = await context.newPage();
    page.problems = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) page.problems.push(`CSP: ${m.text()}`);
    });
    page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
    return page;
  }

  async function axe(page, name) {
    // evaluate() runs through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(bad.length === 0, `${name}: no serious or critical axe violations${bad.length ? ': ' + bad.map((v) => `${v.id} (${v.nodes.length}: ${v.nodes[0]?.target})`).join(', ') : ''}`);
    check(page.problems.length === 0, `${name}: no CSP violation or uncaught error${page.problems.length ? ': ' + page.problems.join('; ') : ''}`);
    page.problems = [];
  }

  async function signIn(page, user, path) {
    await page.goto(base + path);
    // Signed out, a deep link goes through the development login form and back.
    await page.waitForSelector('input[name=username]');
    await page.fill('input[name=username]', user);
    await page.fill('input[name=password]', user);
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.origin === base && !u.pathname.startsWith('/auth'));
  }

  const pages = {}; // name -> path, for the screenshots

  // --- The owner: bob (team-payments owns the payments system) ---
  console.log('bob, an owner:');
  const bobCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const bob = await newPage(bobCtx);
  await signIn(bob, 'bob', '/catalog?q=pay');
  check(new URL(bob.url()).pathname === '/catalog' && new URL(bob.url()).searchParams.get('q') === 'pay', `sign-in comes back to the link asked for (${bob.url()})`);
  // The results table's link: the runbooks the search finds are listed beside it, one titled
  // "Payments API: ...", and either may render first.
  await bob.getByRole('table').getByRole('link', { name: /payments api/i }).first().waitFor();
  check(await bob.getByRole('searchbox', { name: /search/i }).inputValue() === 'pay', 'the search box shows the search from the URL');
  await axe(bob, 'catalog (search)');
  pages.catalog = '/catalog?q=pay';

  // Search as you type: the URL follows the text.
  await bob.getByRole('searchbox', { name: /search/i }).fill('refund');
  await waited('typing puts the text in the URL', () => bob.waitForURL((u) => u.searchParams.get('q') === 'refund'));
  await waited('the results answer the text typed', () => bob.locator('section.results[data-results-for="refund"] table tbody tr').first().waitFor());
  const refundRows = await bob.locator('section.results table tbody tr').allInnerTexts();
  check(refundRows.length > 0 && /refund/i.test(refundRows[0]), `typing searches: the first of ${refundRows.length} rows is about refunds (${(refundRows[0] ?? '').replace(/\s+/g, ' ').slice(0, 80)})`);

  // Facet filter: Kind = API.
  await bob.getByRole('searchbox', { name: /search/i }).fill('');
  await bob.waitForURL((u) => !u.searchParams.get('q'));
  // The label is what a person clicks (react-aria keeps the input itself visually hidden).
  await bob.locator('label.checkbox').filter({ has: bob.locator('.facet-value', { hasText: /^API$/ }) }).first().click();
  await bob.waitForURL((u) => u.searchParams.getAll('kind').includes('API'));
  await bob
    .waitForFunction(() => [...document.querySelectorAll('table tbody tr')].every((tr) => tr.children[1]?.textContent.trim() === 'API'))
    .catch(() => {});
  const kinds = await bob.locator('table tbody tr td:nth-child(2)').allInnerTexts();
  check(kinds.length > 0 && kinds.every((k) => k.trim() === 'API'), `filtering by kind API shows only APIs (${kinds.length} rows)`);
  await axe(bob, 'catalog (filtered)');
  pages['catalog-filtered'] = '/catalog?kind=API';

  // Sort by name descending via the column header.
  await bob.getByRole('columnheader', { name: 'Name' }).getByRole('button').click();
  await waited('sorting by a column header changes the URL', () => bob.waitForURL((u) => u.searchParams.get('dir') === 'desc'));
  const sorted = new URL(bob.url()).searchParams;
  // Name is the default order, which the URL leaves out.
  check(sorted.get('sort') === null && sorted.get('dir') === 'desc', `the URL holds the order asked for: name (the default, no sort=), descending (sort=${sorted.get('sort')}, dir=${sorted.get('dir')})`);
  // The header renders from the same state a moment after the URL changes: wait for it.
  await waited('the Name column says it sorts descending (aria-sort)', () => bob.locator('th[aria-sort="descending"]').filter({ hasText: 'Name' }).waitFor());

  // Open a component.
  await bob.goto(base + '/catalog?q=payments-api&kind=Component');
  await bob.getByRole('table').getByRole('link', { name: /payments api/i }).first().click();
  await bob.waitForURL((u) => u.pathname === '/catalog/default/component/payments-api');
  await bob.getByRole('heading', { name: 'About' }).waitFor();
  await bob.getByRole('heading', { name: 'Deployments', exact: true }).waitFor();
  await waited('the owner is offered the owner actions', () => bob.getByRole('button', { name: 'Refresh from source' }).waitFor());
  check((await bob.getByRole('heading', { name: 'About' }).count()) === 1 && (await bob.locator('#about').isVisible()), 'the component page shows its About section');
  await axe(bob, 'component (owner)');
  pages.component = '/catalog/default/component/payments-api';

  // The canary: the scripted Argo CD moves payments-api's Rollout step by step and the page
  // follows without a reload; bob promotes it and the scripted Argo CD receives the action.
  const deployment = bob.getByRole('article', { name: 'Deployment payments-api in production' });
  const canaryAt = (step, phase, weight) => deployment.locator(`.canary-state[data-step="${step}"][data-phase="${phase}"][data-weight="${weight}"]`);
  const currentStep = () => deployment.getByRole('list', { name: 'Canary steps' }).locator('li[aria-current=step]').innerText();
  await waited('the deployment shows its canary at step 1 of 5, 20 %, progressing', () => canaryAt(1, 'Progressing', 20).waitFor());
  await bob.evaluate(() => { window.__sameDocument = true; });
  check((await argo.ask('/step payments-api 1')) === 'ok', 'the scripted Argo CD pauses the canary at step 2');
  await waited('the canary pauses at step 2 on screen', () => canaryAt(2, 'Paused', 20).waitFor());
  const paused = await deployment.locator('.canary-state').innerText();
  check(/step 2 of 5, weight 20%/.test(paused) && /paused: CanaryPauseStep/.test(paused) && (await currentStep()) === 'pause', `the canary's step moved on screen (${paused}; current step "${await currentStep()}")`);
  await axe(bob, 'component (canary paused)');
  await deployment.getByRole('button', { name: 'Promote', exact: true }).click();
  const promoteDialog = bob.getByRole('alertdialog');
  await promoteDialog.waitFor();
  const promoteText = await promoteDialog.innerText();
  check(/Promote the canary of payments-api in production\?/.test(promoteText) && /moves on to its next step \(now at step 2 of 5, 20%\)/.test(promoteText), `the promote confirmation says what will happen (${promoteText.replace(/\s+/g, ' ')})`);
  await axe(bob, 'promote confirmation');
  await promoteDialog.getByRole('button', { name: 'Promote', exact: true }).click();
  await waited('confirming closes the promote dialog', () => promoteDialog.waitFor({ state: 'detached' }));
  await waited('promoted, the canary moves to step 3, 50 %, on screen', () => canaryAt(3, 'Progressing', 50).waitFor());
  check((await argo.ask('/step payments-api 3')) === 'ok', 'the scripted Argo CD pauses the canary at step 4');
  await waited('the canary pauses at step 4 with weight 50 % on screen', () => canaryAt(4, 'Paused', 50).waitFor());
  const weighted = await deployment.locator('.canary-state').innerText();
  check(/step 4 of 5, weight 50% \(actual 50%\)/.test(weighted), `the canary's weight moved on screen (${weighted})`);
  check(await bob.evaluate(() => window.__sameDocument === true), 'the canary moved on screen without a reload');
  const actions = JSON.parse(await argo.ask('/calls'));
  check(actions.length === 1 && actions[0] === 'resume argoproj.io/Rollout/payments-api/payments-api on argocd/payments-api', `the scripted Argo CD received one resume of the Rollout (${JSON.stringify(actions)})`);

  // An owner action behind its confirmation.
  await bob.getByRole('button', { name: 'Refresh from source' }).click();
  const dialog = bob.getByRole('alertdialog');
  await dialog.waitFor();
  check(/reads the location/.test(await dialog.innerText()), 'the confirmation says what will happen');
  await axe(bob, 'confirmation dialog');
  await dialog.getByRole('button', { name: 'Refresh now' }).click();
  await waited('confirming closes the dialog', () => dialog.waitFor({ state: 'detached' }));
  const refreshed = await bob.evaluate(async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
      body: JSON.stringify({ query: '{ auditRecords(filter: {action: "catalog.location.refresh", actor: "bob"}, first: 5) { totalCount nodes { outcome } } }' }),
    });
    return (await res.json()).data?.auditRecords;
  });
  check(refreshed?.totalCount >= 1 && refreshed.nodes[0].outcome === 'OK', `confirming ran the refresh (its audit record: ${JSON.stringify(refreshed)})`);

  // Every other rollout action of the owner, behind its confirmation, reaching Argo CD (actions.mjs).
  console.log('the owner\'s rollout actions:');
  await ownerActions({ page: bob, argo, check, waited, axe, shot });

  // Pipelines: run ci from the component page and follow the run live to SUCCEEDED.
  await bob.goto(base + '/catalog/default/component/payments-api');
  await bob.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
  await bob.getByRole('list', { name: 'Latest runs of ci' }).or(bob.getByText('No runs yet.').first()).first().waitFor();
  await bob.getByRole('button', { name: 'Run ci' }).click();
  const runDialog = bob.getByRole('dialog');
  await runDialog.waitFor();
  check((await runDialog.getByRole('combobox', { name: /failAt/ }).inputValue()) === 'none', 'the Run dialog shows the declared parameters, defaults filled in');
  await axe(bob, 'run dialog');
  // A double click starts one run (one idempotency key per opening).
  await runDialog.getByRole('button', { name: 'Start run' }).dblclick();
  await bob.waitForURL((u) => u.pathname.startsWith('/pipelines/runs/'));
  const runPath = new URL(bob.url()).pathname;
  await bob.evaluate(() => { window.__sameDocument = true; });
  await bob.locator('.run-status').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 60000 });
  check(await bob.evaluate(() => window.__sameDocument === true), `the run reaches SUCCEEDED live, without a reload (${runPath})`);
  const stageStates = await bob.locator('.stage-table tbody tr').evaluateAll((rows) => rows.map((r) => `${r.querySelector('th').textContent}=${r.dataset.status}`));
  check(stageStates.join(',') === 'Build=SUCCEEDED,Test=SUCCEEDED,Container build=SUCCEEDED,Image scan=SUCCEEDED,Release=SUCCEEDED', `the run page lists the stages in order, each SUCCEEDED (${stageStates.join(', ')})`);
  check(/1\.4\.2/.test(await bob.getByRole('region', { name: 'About this run' }).locator('xpath=..').innerText()), 'the run page shows the artifact the run produced (version 1.4.2)');
  check(/bob/.test(await bob.getByRole('region', { name: 'About this run' }).innerText()) && /through web/.test(await bob.locator('main').innerText()), 'the run page says who triggered it and through which client');
  const counted = await bob.evaluate(async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
      body: JSON.stringify({ query: '{ pipelineRuns(filter: {component: "payments-api", pipeline: "ci"}) { totalCount } }' }),
    });
    return (await res.json()).data?.pipelineRuns?.totalCount;
  });
  check(counted === 1, `a double click on Start run made one run (${counted})`);
  await axe(bob, 'pipeline run (succeeded)');
  pages['pipeline-run'] = runPath;

  // A failing run: the stages after the failed one are SKIPPED; retry behind a confirmation.
  await bob.goto(base + '/catalog/default/component/payments-api');
  await bob.getByRole('button', { name: 'Run ci' }).click();
  await bob.getByRole('dialog').getByRole('combobox', { name: /failAt/ }).selectOption('Test');
  await bob.getByRole('dialog').getByRole('button', { name: 'Start run' }).click();
  await bob.waitForURL((u) => u.pathname.startsWith('/pipelines/runs/') && u.pathname !== runPath);
  const failedPath = new URL(bob.url()).pathname;
  await bob.locator('.run-status').filter({ hasText: 'FAILED' }).waitFor({ timeout: 60000 });
  await bob.locator('.stage-table tbody tr[data-status=SKIPPED]').first().waitFor();
  const failedStates = await bob.locator('.stage-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
  check(failedStates.join(',') === 'SUCCEEDED,FAILED,SKIPPED,SKIPPED,SKIPPED', `a run failing at Test shows the later stages SKIPPED (${failedStates.join(',')})`);
  await axe(bob, 'pipeline run (failed)');
  pages['pipeline-run-failed'] = failedPath;
  await bob.getByRole('button', { name: 'Retry run' }).click();
  const retryDialog = bob.getByRole('alertdialog');
  await retryDialog.waitFor();
  await retryDialog.getByRole('button', { name: 'Retry' }).click();
  await bob.waitForURL((u) => u.pathname.startsWith('/pipelines/runs/') && u.pathname !== failedPath);
  const failedNumber = Buffer.from(decodeURIComponent(failedPath.split('/').pop()), 'base64').toString().split(':').pop();
  const retriedPath = new URL(bob.url()).pathname;
  check(retriedPath.startsWith('/pipelines/runs/') && retriedPath !== failedPath, `retrying opens a new run (${retriedPath})`);
  await waited(`the new run links to the one it retries (Run #${failedNumber})`, () => bob.getByRole('link', { name: `Run #${failedNumber}` }).waitFor());

  await bob.goto(base + '/pipelines?component=payments-api');
  await bob.getByRole('heading', { name: 'Pipeline runs' }).waitFor();
  await bob.locator('table tbody tr').first().waitFor();
  const listed = await bob.locator('table tbody tr').count();
  check(listed >= 3, `the runs page lists the component's runs from the filter in the URL (${listed})`);
  await axe(bob, 'pipeline runs');
  pages.pipelines = '/pipelines?component=payments-api';

  // Deploy requests: bob asks from the component page for the digest the ci run built, to
  // production; he is offered no Approve (four eyes). alice, an admin, finds it awaiting her
  // approval on /deploys and approves it; Portside commits the bump to the demo's bare manifest
  // repository, and bob's page follows without a reload.
  console.log('deploy requests:');
  const builtDigest = 'sha256:4f2b0c6a9d1e8b7f3a5c2e9d0b1f4a6c8e7d5b3a1f9c0e2d4b6a8c7e5f3d1b0a';
  await bob.goto(base + '/catalog/default/component/payments-api');
  const deploySection = bob.getByRole('region', { name: 'Deploy requests' });
  await waited('the component page lists its deploy environments', () => deploySection.getByText(/Environments: production \(needs approval\), staging/).waitFor());
  await deploySection.getByRole('button', { name: 'Request deploy' }).click();
  const requestDialog = bob.getByRole('dialog', { name: 'Request a deploy of payments-api' });
  await requestDialog.waitFor();
  await requestDialog.getByRole('textbox', { name: /Version/ }).fill(builtDigest);
  await requestDialog.getByRole('combobox', { name: 'Environment' }).selectOption('production');
  await requestDialog.getByRole('textbox', { name: 'Reason' }).fill('e2e: fix the rounding bug');
  check(/production needs the approval of another owner or an admin/.test(await requestDialog.innerText()), 'the dialog says production needs an approval');
  await axe(bob, 'request deploy dialog');
  await requestDialog.getByRole('button', { name: 'Request deploy' }).click();
  await waited('requesting opens the request\'s page, by its number', () => bob.waitForURL((u) => /^\/deploys\/\d+$/.test(u.pathname)));
  const deployPathname = new URL(bob.url()).pathname;
  const deployNumber = Number(deployPathname.split('/').pop());
  const deployState = (page) => page.locator('.run-status[data-state]').getAttribute('data-state');
  await bob.locator('.run-status[data-state=REQUESTED]').waitFor();
  await waited('the requester is offered Cancel', () => bob.getByRole('button', { name: 'Cancel request' }).and(bob.locator(':enabled')).waitFor());
  check((await bob.getByRole('button', { name: /^(Approve|Reject)$/ }).count()) === 0, 'the requester is offered no Approve or Reject (four eyes)');
  check(/ci run/.test(await bob.getByRole('region', { name: 'Built and applied' }).innerText()), 'the request names the ci run that built the digest');
  await axe(bob, 'deploy request (requester)');
  pages['deploy-request'] = deployPathname;
  await bob.evaluate(() => { window.__sameDocument = true; });

  const aliceDeployCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const aliceDeploy = await newPage(aliceDeployCtx);
  await signIn(aliceDeploy, 'alice', '/deploys?view=awaiting');
  const awaitingRow = aliceDeploy.getByRole('table', { name: /Awaiting my approval/ }).locator('tbody tr').filter({ has: aliceDeploy.getByRole('link', { name: `#${deployNumber}`, exact: true }) });
  await waited(`alice finds #${deployNumber} awaiting her approval on /deploys`, () => awaitingRow.waitFor());
  check(/payments-api\s+sha256:4f2b0c6a9d1e…\s+production\s+requested\s+bob/.test(await awaitingRow.innerText()), `the row names component, version, environment, state and requester (${(await awaitingRow.innerText()).replace(/\s+/g, ' ')})`);
  await axe(aliceDeploy, 'deploys (awaiting my approval)');
  await awaitingRow.getByRole('link', { name: `#${deployNumber}`, exact: true }).click();
  await aliceDeploy.waitForURL((u) => u.pathname === deployPathname);
  await aliceDeploy.getByRole('button', { name: 'Approve' }).and(aliceDeploy.locator(':enabled')).click();
  const approveDialog = aliceDeploy.getByRole('alertdialog');
  await approveDialog.waitFor();
  check(/commits the new version to the production manifest repository as bob/.test(await approveDialog.innerText()), 'the approval says what will happen');
  await approveDialog.getByRole('textbox', { name: 'Note (optional)' }).fill('go');
  await axe(aliceDeploy, 'approve confirmation');
  await approveDialog.getByRole('button', { name: 'Approve' }).click();
  await waited('confirming closes the approval', () => approveDialog.waitFor({ state: 'detached' }));
  const onward = '.run-status:is([data-state=APPLYING],[data-state=ROLLING_OUT],[data-state=SUCCEEDED])';
  await waited('the approved request is applying, rolling out or done', () => aliceDeploy.locator(onward).waitFor({ timeout: 60000 }));
  await axe(aliceDeploy, 'deploy request (approved)');
  await waited('the requester\'s page follows the approval live', () => bob.locator(onward).waitFor({ timeout: 60000 }));
  check(await bob.evaluate(() => window.__sameDocument === true), `the request moved on bob's screen without a reload (${await deployState(bob)})`);
  check((await bob.getByRole('table', { name: /Every transition/ }).innerText()).includes('alice'), 'the transitions list alice\'s approval');
  // The page may show APPLYING while the commit is being pushed: wait (up to a minute) until the
  // request says which commit it pushed, or that it could not.
  const applied = await aliceDeploy.evaluate(async (n) => {
    const id = btoa(`DeployRequest:${n}`).replace(/=+$/, '');
    const deadline = Date.now() + 60000;
    for (;;) {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
        body: JSON.stringify({ query: 'query($id: ID!) { deployRequest(id: $id) { state approver repo commitSha } }', variables: { id } }) });
      const req = (await res.json()).data?.deployRequest;
      if (!req || req.commitSha || req.state === 'FAILED' || Date.now() > deadline) return req;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, deployNumber);
  let landed = '';
  try {
    landed = execFileSync('git', ['--git-dir', applied.repo, 'show', '-s', '--format=%an%n%B', applied.commitSha], { encoding: 'utf8' })
      + execFileSync('git', ['--git-dir', applied.repo, 'show', `${applied.commitSha}:apps/payments-api/overlays/production/kustomization.yaml`], { encoding: 'utf8' });
  } catch (e) {
    landed = String(e.message ?? e);
  }
  check(applied?.approver === 'alice' && landed.includes(`digest: ${builtDigest}`) && /^Bob Owner\n/.test(landed) && landed.includes(`Approved-by: alice`),
    `the commit landed in the demo repository, authored by bob, approved by alice, bumping the digest (${JSON.stringify(applied)}; ${landed.replace(/\s+/g, ' ').slice(0, 300)})`);
  const linked = /Deploy-Request-URL: (\S+)/.exec(landed)?.[1] ?? '';
  check(linked === `${base}/deploys/${deployNumber}`, `the commit links the request's page (${linked})`);
  await aliceDeploy.goto(linked || base + deployPathname);
  await waited('the commit\'s link opens the request', () => aliceDeploy.getByRole('heading', { name: `Deploy request #${deployNumber}: payments-api to production` }).waitFor());
  await aliceDeployCtx.close();
  await bob.goto(base + '/deploys');
  await waited('bob\'s requests list his request', () => bob.getByRole('table', { name: /Deploy requests \(Mine\)/ }).getByRole('link', { name: `#${deployNumber}`, exact: true }).waitFor());
  await axe(bob, 'deploys (mine)');
  pages.deploys = '/deploys';
  pages['deploys-all'] = '/deploys?view=all';

  // Status-meeting tasks: the demo's project (issue #15's table, a meeting a week ago, changes
  // since), owned by team-platform with bob as a member.
  const gql = (page, query, variables) =>
    page.evaluate(async ([q, v]) => {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' }, body: JSON.stringify({ query: q, variables: v }) });
      return res.json();
    }, [query, variables]);
  await bob.goto(base + '/projects');
  await waited('the projects page lists the demo project', () => bob.getByRole('link', { name: 'Deployment stage roadmap' }).waitFor());
  await axe(bob, 'projects');
  pages.projects = '/projects';
  await bob.getByRole('link', { name: 'Deployment stage roadmap' }).click();
  await bob.waitForURL((u) => u.pathname === '/projects/deployment-roadmap');
  const taskRows = bob.getByRole('table', { name: /^Tasks of/ }).locator('tbody tr');
  await waited('the project page shows the status-meeting table', () => taskRows.first().waitFor());
  const firstRow = (await taskRows.first().innerText()).replace(/\s+/g, ' ').trim();
  check((await taskRows.count()) === 5 && firstRow === 'Define k8s deployment specs High alice Blocked Waiting on service account permissions',
    `the table has the demo's five tasks in board order, the first as imported and blocked since (${firstRow})`);
  const since = await bob.getByRole('list', { name: 'Changed since the last meeting' }).innerText();
  check(/Blocker\s+Define k8s deployment specs/.test(since) && /New\s+Review the payments-api runbook/.test(since), `the page lists what changed since the last meeting (${since.replace(/\s+/g, ' ')})`);
  await axe(bob, 'project');
  pages.project = '/projects/deployment-roadmap';
  // Live: a change made elsewhere (here through the API) reaches the table without a reload.
  await bob.evaluate(() => { window.__sameDocument = true; });
  const board = await gql(bob, '{ project(name: "deployment-roadmap") { tasks { nodes { id title version } } } }');
  const helm = board.data.project.tasks.nodes.find((t) => t.title === 'Helm chart templating');
  const moved = await gql(bob, 'mutation($id: ID!, $v: Int!) { updateTask(input: {id: $id, version: $v, status: IN_PROGRESS}) { task { status } } }', { id: helm.id, v: helm.version });
  check(moved.data?.updateTask.task.status === 'IN_PROGRESS', `bob, a member, changes a task's status (${JSON.stringify(moved.errors ?? moved.data)})`);
  await waited('the change shows in the table live, without a reload', () => bob.locator('table tbody tr[data-status="IN_PROGRESS"]', { hasText: 'Helm chart templating' }).waitFor());
  check(await bob.evaluate(() => window.__sameDocument === true), 'the table changed in the same document');
  // Sort and filter, both in the URL.
  await bob.getByRole('button', { name: 'Priority', exact: true }).click();
  await waited('sorting by priority puts it in the URL', () => bob.waitForURL((u) => u.searchParams.get('sort') === 'priority'));
  const prios = await taskRows.locator('td:nth-child(2)').allInnerTexts();
  check(prios.join(',') === 'High,High,Medium,Medium,Low', `sorted by priority, High first (${prios.join(',')})`);
  // The box is controlled by the URL, which the router updates in a transition: click, then wait
  // for the URL and the box (Playwright's check() asserts the state at once and raced it on a busy machine).
  await bob.getByRole('checkbox', { name: 'Blocked' }).click();
  await waited('filtering by status Blocked puts it in the URL', () => bob.waitForURL((u) => u.searchParams.getAll('status').includes('BLOCKED')));
  await waited('the Blocked box shows checked', () => bob.waitForFunction(() => [...document.querySelectorAll('input[type=checkbox]')].some((b) => b.checked && b.parentElement?.textContent?.trim() === 'Blocked')));
  await waited('only the blocked task is left', () => bob.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1 && document.querySelector('table tbody tr').dataset.status === 'BLOCKED'));
  pages['project-filtered'] = '/projects/deployment-roadmap?status=BLOCKED&sort=priority';
  // Export the table as Markdown.
  await bob.getByRole('button', { name: 'Export as Markdown' }).click();
  await waited('the export shows the Markdown table', () => bob.waitForFunction(() => /\| Define k8s deployment specs \|/.test(document.querySelector('#export-text')?.value ?? '')));
  const exported = await bob.getByRole('textbox', { name: 'The table as Markdown' }).inputValue();
  check(/^\| Task \| Priority \| Assignee \| Status \| Comments \/ Issues \|/.test(exported), `the export has the meeting table's header (${exported.split('\n')[0]})`);
  // A task: its history, a change and a comment through the page.
  await bob.goto(base + '/projects/deployment-roadmap');
  // From the table: the list of changes since the meeting links the same task once it has loaded.
  await bob.getByRole('table').getByRole('link', { name: 'Review the payments-api runbook' }).click();
  await bob.waitForURL((u) => u.pathname.startsWith('/tasks/'));
  const taskPath = new URL(bob.url()).pathname;
  await bob.getByRole('heading', { name: 'History' }).waitFor();
  await bob.getByRole('combobox', { name: 'Status' }).selectOption('COMPLETED');
  await bob.getByRole('button', { name: 'Save changes' }).click();
  await waited('saving shows the new status', () => bob.locator('.run-status').filter({ hasText: 'Completed' }).waitFor());
  await waited('the history gains bob\'s change', () => bob.getByRole('table', { name: /Every change/ }).locator('tr').filter({ hasText: 'bob' }).filter({ hasText: /completed/i }).first().waitFor());
  await bob.getByRole('textbox', { name: 'Add a comment' }).fill('Checked the escalation time with the on-call.');
  await bob.getByRole('button', { name: 'Add comment' }).click();
  await waited('the comment joins the thread', () => bob.getByRole('list', { name: 'Comments' }).getByText('Checked the escalation time with the on-call.').waitFor());
  await axe(bob, 'task');
  pages.task = taskPath;
  // Its runbook link leads to the runbook: rendered, versioned, diffable, editable by bob (owner of payments-api).
  await bob.getByRole('link', { name: /^Runbook / }).click();
  await bob.waitForURL((u) => u.pathname.startsWith('/runbooks/'));
  const runbookPagePath = new URL(bob.url()).pathname;
  await waited('the runbook page renders its Markdown', () => bob.locator('.runbook-html strong', { hasText: 'Payments API' }).waitFor());
  check((await bob.getByRole('table', { name: /Versions/ }).locator('tbody tr').count()) === 2, 'the runbook lists its two versions');
  check((await bob.getByRole('button', { name: 'Edit' }).count()) === 1, 'an owner of payments-api is offered Edit');
  await axe(bob, 'runbook');
  pages.runbook = runbookPagePath;
  await bob.getByRole('link', { name: 'Diff of version 2 against 1' }).click();
  await waited('the diff shows the line version 2 added', () => bob.locator('.diff-add', { hasText: 'If one provider fails' }).waitFor());
  await axe(bob, 'runbook diff');
  pages['runbook-diff'] = new URL(bob.url()).pathname + new URL(bob.url()).search;
  await bob.goto(base + '/runbooks');
  await waited('the runbooks page lists the demo runbook', () => bob.getByRole('link', { name: 'Payments API: card payments failing' }).waitFor());
  await axe(bob, 'runbooks');
  pages.runbooks = '/runbooks';
  await bob.goto(base + '/catalog/default/component/payments-api');
  await waited('the component page lists its runbook', () => bob.getByRole('list', { name: 'Runbooks kept in Portside' }).getByRole('link', { name: 'Payments API: card payments failing' }).waitFor());
  await axe(bob, 'component (runbooks)');

  // The project board beyond one page (100 tasks): bob creates a project of his team and imports
  // 130 tasks through the API, then pages forward and back; the cursor is in the URL, so the page
  // survives a reload (a deep link).
  console.log('a board of 130 tasks:');
  const bigBoard = 'e2e-big-board';
  const created = await gql(bob, 'mutation { createProject(input: {name: "e2e-big-board", title: "A big board", owner: "team-payments"}) { project { name } } }');
  check(created.data?.createProject.project.name === bigBoard, `bob creates a project of his team (${JSON.stringify(created.errors ?? created.data)})`);
  const bigTable = ['| Task | Priority | Assignee | Status |', '|---|---|---|---|'];
  for (let i = 0; i < 130; i++) bigTable.push(`| Board task ${String(i).padStart(3, '0')} | ${['High', 'Medium', 'Low'][i % 3]} | bob | Not Started |`);
  const imported = await gql(bob, 'mutation($t: String!) { importTasks(input: {project: "e2e-big-board", text: $t}) { created errors { row message } } }', { t: bigTable.join('\n') });
  check(imported.data?.importTasks.created === 130, `the import creates 130 tasks (${JSON.stringify(imported.errors ?? imported.data?.importTasks)})`);
  const boardRows = bob.getByRole('table', { name: /^Tasks of/ }).locator('tbody tr');
  const firstTitle = async () => (await boardRows.first().locator('th').innerText()).trim();
  await bob.goto(base + `/projects/${bigBoard}`);
  await waited('the big board shows its first page', () => bob.getByText('130 tasks, page 1 (100 a page)').waitFor());
  check((await boardRows.count()) === 100 && (await firstTitle()) === 'Board task 000', `page 1 holds tasks 000 to 099 (${await boardRows.count()} rows, first ${await firstTitle()})`);
  const pager = bob.getByRole('navigation', { name: 'Pages of tasks' });
  check(await pager.getByRole('button', { name: 'Previous page' }).isDisabled(), 'on page 1 there is no previous page');
  await pager.getByRole('button', { name: 'Next page' }).click();
  await waited('Next page puts the cursor in the URL', () => bob.waitForURL((u) => u.searchParams.getAll('c').length === 1));
  await waited('page 2 shows the last 30 tasks', () => bob.getByText('130 tasks, page 2 (100 a page)').waitFor());
  await waited('page 2 starts at task 100', () => bob.waitForFunction(() => document.querySelector('table tbody tr th')?.textContent?.trim() === 'Board task 100'));
  check((await boardRows.count()) === 30 && (await bob.locator('table tbody tr th', { hasText: 'Board task 129' }).count()) === 1, `page 2 holds tasks 100 to 129 (${await boardRows.count()} rows)`);
  check(await pager.getByRole('button', { name: 'Next page' }).isDisabled(), 'on the last page there is no next page');
  await axe(bob, 'project (page 2 of a big board)');
  const page2 = new URL(bob.url());
  pages['project-page-2'] = page2.pathname + page2.search;
  // A deep link (or a reload) to page 2 opens page 2.
  await bob.reload();
  await waited('reloaded, the URL still names page 2', () => bob.getByText('130 tasks, page 2 (100 a page)').waitFor());
  check(new URL(bob.url()).searchParams.get('c') === page2.searchParams.get('c') && (await firstTitle()) === 'Board task 100', `the reloaded page keeps the cursor and its tasks (${bob.url()}, first ${await firstTitle()})`);
  await pager.getByRole('button', { name: 'Previous page' }).click();
  await waited('Previous page takes the cursor out of the URL', () => bob.waitForURL((u) => u.searchParams.getAll('c').length === 0));
  await waited('back on page 1', () => bob.getByText('130 tasks, page 1 (100 a page)').waitFor());
  await waited('page 1 starts at task 000 again', () => bob.waitForFunction(() => document.querySelector('table tbody tr th')?.textContent?.trim() === 'Board task 000'));
  check((await boardRows.count()) === 100, `page 1 holds 100 tasks again (${await boardRows.count()})`);
  // Filtering starts at the first page: the cursor of an unfiltered page means nothing there.
  await pager.getByRole('button', { name: 'Next page' }).click();
  await bob.waitForURL((u) => u.searchParams.getAll('c').length === 1);
  await bob.getByRole('checkbox', { name: 'High' }).click();
  await waited('a filter drops the cursor', () => bob.waitForURL((u) => u.searchParams.get('priority') === 'HIGH' && u.searchParams.getAll('c').length === 0));
  await waited('the High tasks fit one page', () => bob.getByText(/^44 tasks$/).waitFor());
  pages['project-big-board'] = `/projects/${bigBoard}`;

  // Slack: a Slack user whose address Slack has not confirmed links itself to bob through the
  // portal. The Slack side is signed as Slack signs it; the answers come to the stub's response URLs.
  console.log('linking a Slack user:');
  const dave = 'U0E2EDAVE';
  const unlinked = await slack.command(base, dave, 'status payments-api');
  check(unlinked.reply.includes('`/deploy link`'), `unlinked and unknown by address, the Slack user is told to link (${unlinked.reply})`);
  const asked = await slack.command(base, dave, 'link');
  const linkURL = /<([^|>]+)\|Open this link>/.exec(asked.reply)?.[1] ?? '';
  check(asked.status === 200 && linkURL.startsWith(`${base}/slack/link?token=`), `/deploy link answers with a link URL to the portal (${asked.status} ${asked.reply})`);
  await bob.goto(linkURL || base + '/slack/link');
  await waited('the link page asks bob to confirm', () => bob.getByRole('button', { name: 'Link my Slack user' }).waitFor());
  // Before confirming, the page says whom the URL links (the IDs from the token, the name from users.info).
  const preview = ((await bob.getByTestId('slack-link-preview').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  check(preview === `You are linking Slack user @dave (${dave}, Dave) in workspace T0E2E to your Portside account, bob.`, `the page names the Slack user before the confirmation (${preview})`);
  check((await bob.getByRole('list', { name: 'Linked Slack users' }).count()) === 0, 'nothing is linked on opening the URL');
  await axe(bob, 'slack link (confirm)');
  await bob.getByRole('button', { name: 'Link my Slack user' }).click();
  await waited('confirming says the Slack user is linked to bob', () => bob.getByRole('status').filter({ hasText: `Slack user ${dave} of workspace T0E2E is linked to you, bob` }).waitFor());
  await waited('the list of bob\'s links shows it', () => bob.getByRole('list', { name: 'Linked Slack users' }).getByText(dave, { exact: true }).waitFor());
  await axe(bob, 'slack link (linked)');
  pages['slack-links'] = '/slack/link';
  const asBob = await slack.command(base, dave, 'status payments-api');
  check(/^Latest deploy requests of payments-api:/.test(asBob.reply) && !asBob.reply.includes('/deploy link'), `linked, the Slack user acts as bob (${asBob.reply.split('\n')[0]})`);
  // The URL works once: opened again, the page says so before any confirmation, and offers none.
  await bob.goto(linkURL || base + '/slack/link');
  await waited('a used link URL says it was used or has expired', () => bob.getByTestId('slack-link-preview').filter({ hasText: /used already or has expired/ }).waitFor());
  check((await bob.getByRole('button', { name: 'Link my Slack user' }).count()) === 0, 'a used link URL offers no confirmation');
  // A fresh URL, left unconfirmed, for the screenshot of the confirmation.
  const fresh = /<([^|>]+)\|Open this link>/.exec((await slack.command(base, 'U0E2EERIN', 'link')).reply)?.[1];
  if (fresh) pages['slack-link-confirm'] = new URL(fresh).pathname + new URL(fresh).search;
  await bob.goto(base + '/slack/link');
  await bob.getByRole('button', { name: `Unlink ${dave}` }).click();
  await waited('unlinking empties the list', () => bob.getByText('No Slack user is linked to you').waitFor());
  const after = await slack.command(base, dave, 'status payments-api');
  check(after.reply.includes('`/deploy link`'), `unlinked again, the Slack user is told to link (${after.reply})`);
  // Another Slack user stays linked, for the screenshot of the list.
  const kept = /<([^|>]+)\|Open this link>/.exec((await slack.command(base, 'U0E2EFRAN', 'link')).reply)?.[1];
  if (kept) {
    await bob.goto(kept);
    await bob.getByRole('button', { name: 'Link my Slack user' }).click();
    await waited('a second Slack user links too', () => bob.getByRole('list', { name: 'Linked Slack users' }).getByText('U0E2EFRAN', { exact: true }).waitFor());
  }

  // What the component page draws: the dependency graph (links to the related entities, bounded,
  // with a text alternative) and the DORA chart with its table.
  await bob.goto(base + '/catalog/default/component/payments-api');
  const graph = bob.getByRole('group', { name: 'Dependency graph of Payments API' });
  await waited('the component page draws its dependency graph', () => graph.waitFor());
  const graphLinks = await graph.getByRole('link').evaluateAll((as) => as.map((a) => `${a.getAttribute('aria-label')} -> ${a.getAttribute('href')}`));
  check(graphLinks.some((l) => /^System: payments .*-> \/catalog\/default\/system\/payments$/.test(l)) && graphLinks.some((l) => /^Dependents: .* -> \/catalog\/default\/component\//.test(l)),
    `the graph's nodes are links to the related entities (${graphLinks.join('; ')})`);
  const caption = await bob.locator('figure.graph figcaption').innerText();
  check(/dependents: \d+/.test(caption) && /system: 1/.test(caption), `the graph has a text alternative (${caption})`);
  await waited('the DORA section draws deployments per week', () => bob.getByRole('img', { name: /deployment/i }).first().waitFor());
  await bob.getByText('Deployments per week as a table').click();
  const weekRows = await bob.getByRole('table', { name: 'Deployments per week' }).locator('tbody tr').count();
  check(weekRows === 8, `the DORA chart's table lists eight weeks (${weekRows})`);
  await axe(bob, 'component (graph and DORA table)');
  const go = (msg, fn) => waited(msg, fn);
  const extra = {
    api: async () => {
      await go('the API definition is highlighted', () => bob.locator('pre.definition span.hl-key').first().waitFor());
      const t = await bob.locator('pre.definition').innerText();
      check(/openapi/.test(t) && (await bob.locator('pre.definition span').count()) > 10, `the definition is shown whole, in coloured pieces (${t.slice(0, 40).replace(/\s+/g, ' ')}…)`);
    },
    group: async () => {
      await go('the group page shows its DORA', () => bob.getByRole('heading', { name: /DORA of what the group owns/ }).waitFor());
      check((await bob.getByRole('heading', { name: /^Owned \(\d+\)$/ }).count()) === 1 && (await bob.getByRole('heading', { name: 'Members' }).count()) === 1, 'the group page lists its members and what it owns');
    },
    home: async () => {
      await go('home shows your recent rollouts', () => bob.getByRole('heading', { name: 'Your recent rollouts' }).waitFor());
      await go('the recent rollouts load (a list or its empty state)', () => bob.locator('section[aria-labelledby=recent]').locator('ul, .empty').first().waitFor());
    },
    locations: async () => {
      check((await bob.getByText('Locations could not be loaded').count()) === 0, 'the locations load (no refusal shown)');
      // bob owns what the demo location provides: he may refresh it, not unregister or register.
      const demo = bob.getByRole('group', { name: /^Actions on / }).first();
      await go('an owner is offered Refresh on a location providing what he owns', () => demo.getByRole('button', { name: 'Refresh', exact: true }).waitFor());
      check((await bob.getByRole('button', { name: 'Unregister' }).count()) === 0 && (await bob.getByRole('button', { name: 'Register' }).count()) === 0, 'an owner is offered no register or unregister');
    },
  };

  // Other entity pages.
  for (const [name, path, heading] of [
    ['api', '/catalog/default/api/payments-rest-api', 'Definition'],
    ['system', '/catalog/default/system/payments', 'Relations'],
    ['domain', '/catalog/default/domain/commerce', 'Relations'],
    ['group', '/catalog/default/group/team-payments', 'Relations'],
    ['user', '/catalog/default/user/bob', 'Relations'],
    ['home', '/', 'Needs attention'],
    ['locations', '/locations', 'Locations'],
    ['audit-refused', '/audit?action=catalog.location.refresh', 'Audit log'], // bob is no admin (audit.mjs: the admin's)
  ]) {
    await bob.goto(base + path);
    await waited(`${name} page shows ${heading}`, () => bob.getByRole('heading', { name: heading }).first().waitFor());
    await extra[name]?.();
    await axe(bob, name);
    pages[name] = path;
  }
  await bob.goto(base + '/catalog/default/component/no-such-thing');
  await waited('an unknown entity says so', () => bob.getByText('There is no component').waitFor());
  pages['not-found-entity'] = '/catalog/default/component/no-such-thing';

  // Screenshots of every page: light and dark, 1280 px and a phone's width.
  if (takeShots) {
    const state = await bobCtx.storageState();
    for (const scheme of ['light', 'dark']) {
      for (const [vname, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
        const ctx = await browser.newContext({ storageState: state, colorScheme: scheme, viewport, deviceScaleFactor: 1 });
        const p = await ctx.newPage();
        for (const [name, path] of Object.entries(pages)) {
          await p.goto(base + path);
          await p.waitForLoadState('networkidle');
          await p.locator('[role=status].loading').waitFor({ state: 'detached' }).catch(() => {});
          await p.screenshot({ path: join(shots, `${name}-${vname}-${scheme}.jpg`), fullPage: true, type: 'jpeg', quality: 70 });
        }
        await ctx.close();
      }
    }
    console.log(`  screenshots in ${shots}`);
  }

  // Sign out from the user menu: back at the portal's front door, signed out.
  await bob.goto(base + '/');
  await bob.getByRole('button', { name: /^Account/ }).click();
  await bob.getByRole('menuitem', { name: 'Sign out' }).click();
  await bob.getByRole('link', { name: 'Sign in' }).waitFor();
  check(new URL(bob.url()).pathname === '/', `signing out lands on the portal's front door (${bob.url()})`);
  await axe(bob, 'signed out');
  if (takeShots) {
    for (const scheme of ['light', 'dark']) {
      for (const [vname, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
        const ctx = await browser.newContext({ colorScheme: scheme, viewport });
        const p = await ctx.newPage();
        await p.goto(base + '/');
        await p.getByRole('link', { name: 'Sign in' }).waitFor();
        await p.screenshot({ path: join(shots, `signed-out-${vname}-${scheme}.jpg`), fullPage: true, type: 'jpeg', quality: 70 });
        await ctx.close();
      }
    }
  }
  const r = await bob.request.post(base + '/graphql', { data: { query: '{ me { username } }' }, headers: { 'X-Portside-CSRF': '1' } });
  check(r.status() === 401, `after sign-out the API refuses the old session (${r.status()})`);

  // --- The viewer: carol owns nothing ---
  console.log('carol, a viewer:');
  const carolCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const carol = await newPage(carolCtx);
  await signIn(carol, 'carol', '/catalog/default/component/payments-api');
  await carol.getByRole('heading', { name: 'Deployments', exact: true }).waitFor();
  await carol.getByRole('heading', { name: 'DORA, last 30 days' }).waitFor();
  check((await carol.getByRole('button', { name: 'Refresh from source' }).count()) === 0, 'the viewer is offered no owner action');
  await waited('the viewer sees the canary, paused at step 4', () => carol.locator('.canary-state[data-step="4"][data-phase="Paused"]').waitFor());
  check((await carol.getByRole('button', { name: /^(Promote|Promote fully|Abort|Sync|Refresh|Terminate)$/ }).count()) === 0, 'the viewer is offered no promote, abort, sync, refresh or terminate');
  const forcedPromote = await carol.evaluate(async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
      body: JSON.stringify({ query: 'mutation { promoteDeployment(input: {component: "component:default/payments-api"}) { deployment { application } } }' }),
    });
    return (await res.json()).errors?.[0]?.extensions?.code;
  });
  check(forcedPromote === 'FORBIDDEN', `a forced promote is refused FORBIDDEN (${forcedPromote})`);
  // None of the rollout actions offered; each forced one refused, and nothing reaches Argo CD (actions.mjs).
  await viewerActions({ page: carol, argo, check, waited, axe });
  await carol.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
  await carol.getByRole('list', { name: 'Latest runs of ci' }).waitFor();
  check((await carol.getByRole('button', { name: /^Run / }).count()) === 0, 'the viewer is offered no Run button');
  await carol.goto(base + pages['pipeline-run-failed']);
  await carol.locator('.stage-table').waitFor();
  check((await carol.getByRole('button', { name: /Retry run|Cancel run/ }).count()) === 0, 'the viewer is offered no cancel or retry on a run');
  await axe(carol, 'pipeline run (viewer)');
  await carol.goto(base + '/catalog/default/component/payments-api');
  await carol.getByRole('heading', { name: 'Deployments', exact: true }).waitFor();
  await carol.getByRole('list', { name: 'Latest deploy requests' }).waitFor();
  check((await carol.getByRole('button', { name: 'Request deploy' }).count()) === 0, 'the viewer is offered no Request deploy');
  await axe(carol, 'component (viewer)');
  await carol.goto(base + pages['deploy-request']);
  await carol.getByRole('table', { name: /Every transition/ }).waitFor();
  check((await carol.getByRole('button', { name: /^(Approve|Reject|Cancel request)$/ }).count()) === 0, 'the viewer is offered no decision on a deploy request');
  await axe(carol, 'deploy request (viewer)');
  // carol is no member of the roadmap and owns nothing of payments-api: she reads, and is offered no change.
  await carol.goto(base + '/projects/deployment-roadmap');
  await carol.getByRole('heading', { name: 'Export' }).waitFor();
  check((await carol.getByRole('textbox', { name: /Table to import/ }).count()) === 0 && (await carol.getByRole('button', { name: 'Record meeting' }).count()) === 0, 'the viewer is offered no import and no meeting');
  await axe(carol, 'project (viewer)');
  await carol.goto(base + pages.task);
  await carol.getByRole('heading', { name: 'Changing this task' }).waitFor();
  check((await carol.getByRole('button', { name: 'Save changes' }).count()) === 0 && (await carol.getByRole('textbox', { name: 'Add a comment' }).count()) === 0, 'the viewer is offered no change or comment on a task');
  const forcedTask = await carol.evaluate(async (path) => {
    const id = decodeURIComponent(path.split('/').pop());
    const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
      body: JSON.stringify({ query: 'mutation($id: ID!) { addTaskComment(input: {id: $id, body: "x"}) { comment { id } } }', variables: { id } }) });
    return (await res.json()).errors?.[0]?.extensions?.code;
  }, pages.task);
  check(forcedTask === 'FORBIDDEN', `a forced comment from the viewer is refused FORBIDDEN (${forcedTask})`);
  await carol.goto(base + pages.runbook);
  await carol.locator('.runbook-html').waitFor();
  check((await carol.getByRole('button', { name: 'Edit' }).count()) === 0, 'the viewer is offered no runbook edit');
  // Forced anyway, the server refuses, and says so with a request ID.
  const forced = await carol.evaluate(async () => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
      body: JSON.stringify({ query: 'mutation { syncDeployment(input: {component: "component:default/payments-api"}) { deployment { application } } }' }),
    });
    return { status: res.status, body: await res.json(), requestId: res.headers.get('X-Request-ID') };
  });
  check(forced.body.errors?.[0]?.extensions?.code === 'FORBIDDEN' && !!forced.requestId, `a forced action is refused FORBIDDEN (${JSON.stringify(forced.body.errors?.[0])})`);

  // --- The admin: alice registers a location whose file has an error, and sees file and line ---
  console.log('alice, an admin:');
  const { createServer: httpServer } = await import('node:http');
  const files = httpServer((req, res) => {
    res.setHeader('Content-Type', 'text/yaml');
    res.end('apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken-one\nspec:\n  type: service\n  lifecycle: production\n  owner: 42\n');
  });
  await new Promise((r) => files.listen(0, '127.0.0.1', r));
  const fileURL = `http://127.0.0.1:${files.address().port}/catalog-info.yaml`;
  const aliceCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const alice = await newPage(aliceCtx);
  await signIn(alice, 'alice', '/locations');
  await alice.getByRole('textbox', { name: 'File URL' }).fill(fileURL);
  await alice.getByRole('button', { name: 'Register', exact: true }).click();
  const outcome = alice.locator('[role=status], [role=alert]').filter({ hasText: /Registered|refused/ }).first();
  await outcome.waitFor();
  const text = await outcome.innerText();
  check(text.includes('catalog-info.yaml') && /line \d+/.test(text) && /spec\.owner/.test(text), `registering a file with an error shows its file, line and field (${text.replace(/\s+/g, ' ').slice(0, 200)})`);
  await axe(alice, 'locations (admin)');
  files.close();

  // The audit log (alice finds what the run did; carol is refused) and the keyboard (audit.mjs).
  const t = { base, browser, check, waited, axe, newPage, shots, takeShots };
  await auditLog(t, { admin: alice, viewer: carol });
  await keyboard(t, alice);

  // A lost live connection, last: the server stops and starts again under carol's component page
  // (actions.mjs).
  console.log('a lost live connection:');
  await carol.goto(base + '/catalog/default/component/payments-api');
  await lostConnection({ page: carol, argo, check, waited, axe, shot, restart });

  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    console.error('--- portside log (tail) ---\n' + log.join('').split('\n').slice(-40).join('\n'));
    process.exitCode = 1;
  } else console.log('\ne2e: all checks passed');
} catch (err) {
  console.error('e2e failed:', err);
  for (const ctx of browser?.contexts() ?? []) {
    for (const p of ctx.pages()) {
      mkdirSync(join(here, 'out'), { recursive: true });
      const file = join(here, 'out', `failure-${Date.now()}.png`);
      await p.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`page ${p.url()} (screenshot ${file}): ${(await p.locator('body').innerText().catch(() => '')).slice(0, 1500)}`);
    }
  }
  process.exitCode = 1;
} finally {
  await browser?.close();
  if (server && server.exitCode === null && server.signalCode === null) {
    // serve removes its temporary directories, in tmp, as it stops: let it before tmp goes.
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    let timer;
    await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 30_000); })]);
    clearTimeout(timer);
  }
  if (argo && argo.proc.exitCode === null) argo.proc.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * A stand-in for Slack: its Web API (users.info knows nobody's confirmed address, and names U0E2EDAVE
 * @dave, "Dave"; messages posted
 * to channels are accepted) and its response URLs, where Portside posts the answers to commands.
 * command(base, user, text) sends `/deploy text` as Slack would, signed with the secret portside
 * was given, and resolves with the acknowledgement's status and the answer posted afterwards.
 */
async function startSlackStub() {
  const secret = randomBytes(24).toString('hex');
  const replies = new Map();
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const path = new URL(req.url, 'http://stub').pathname;
      res.setHeader('Content-Type', 'application/json');
      if (path.startsWith('/commands/')) {
        replies.set(path, JSON.parse(body || '{}'));
        res.end('{}');
      } else if (path === '/api/users.info') {
        const user = new URLSearchParams(body).get('user');
        const handle = user.replace(/^U0E2E/, '').toLowerCase();
        const name = handle.charAt(0).toUpperCase() + handle.slice(1);
        res.end(JSON.stringify({ ok: true, user: { id: user, team_id: 'T0E2E', name: handle, is_email_confirmed: false, profile: { email: '', display_name: name } } }));
      } else {
        const channel = new URLSearchParams(body).get('channel');
        res.end(JSON.stringify({ ok: true, channel, ts: `1700000000.${String(replies.size).padStart(6, '0')}` }));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  const base = `http://127.0.0.1:${server.address().port}`;
  let seq = 0;
  return {
    secret,
    base,
    async command(portside, user, text) {
      const id = `/commands/T0E2E/${++seq}`;
      const body = new URLSearchParams({ command: '/deploy', text, team_id: 'T0E2E', user_id: user, user_name: user.toLowerCase(), channel_id: 'C0E2E', response_url: base + id, trigger_id: `e2e.${seq}` }).toString();
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
      const res = await fetch(`${portside}/slack/commands`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Signature': signature, 'X-Slack-Request-Timestamp': ts },
        body,
      });
      await res.text();
      // The answer comes after the acknowledgement, from Portside's workers (polling a process we
      // started, in the driver: not an assertion on time).
      for (let i = 0; i < 300 && !replies.has(id); i++) await new Promise((r) => setTimeout(r, 100));
      return { status: res.status, reply: replies.get(id)?.text ?? '(no answer)' };
    },
  };
}
