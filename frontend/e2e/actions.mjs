// The owner's rollout actions end to end (issue #14), the viewer's absence of them, and a lost live
// connection, for e2e/run.mjs. Each function takes what it needs of the run: the page, the
// scripted Argo CD (argo: bench/portalargo, whose /received lists every action it was asked), the
// run's check/waited/axe, and shot (screenshots of a dialog, light and dark; a no-op with
// SCREENSHOTS=0).
//
// What the scripted Argo CD received is the proof an action reached Argo CD; what the page shows
// afterwards (without a reload) is the proof the screen follows.
import { join } from 'node:path';

const component = 'component:default/payments-api';
const app = 'argocd/payments-api';
const rollout = `argoproj.io/Rollout/payments-api/payments-api on ${app}`;
// Two commits of the manifest repository the scripted Argo CD "deploys".
const revA = '3f1c2a9b7d5e4f60718293a4b5c6d7e8f9012345';
const revB = '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807';

const received = async (argo) => JSON.parse(await argo.ask('/received'));
const flat = (s) => s.replace(/\s+/g, ' ').trim();

/**
 * Screenshots of what the page shows now (an open dialog), light and dark, at the page's own
 * width, into dir as NAME-desktop-light.jpg and NAME-desktop-dark.jpg (the pages' naming).
 */
export function dialogShots(dir, enabled) {
  return async (page, name) => {
    if (!enabled) return;
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(dir, `${name}-desktop-${scheme}.jpg`), type: 'jpeg', quality: 70 });
    }
    await page.emulateMedia({ colorScheme: null });
  };
}

/**
 * bob, an owner, on payments-api's page with its canary paused at step 4 of 5 (50 %): sync (first
 * refused by a sync window, the refusal shown with its message and request ID), rollback to a
 * history entry, refresh, promote-full, abort and retry. Each: the confirmation says what will
 * happen, axe checks it, Cancel sends nothing, confirming reaches the scripted Argo CD, and the
 * page follows live. It leaves the canary where it found it.
 */
export async function ownerActions({ page, argo, check, waited, axe, shot }) {
  const deployment = page.getByRole('article', { name: 'Deployment payments-api in production' });
  const canary = deployment.locator('.canary-state');
  const history = page.getByRole('region', { name: /^Rollout history/ });
  const operation = (phase) => deployment.locator('p').filter({ hasText: new RegExp(`^Operation\\s*${phase}\\b`) });
  await page.evaluate(() => { window.__actionsSameDocument = true; });

  /**
   * Opens the confirmation with the button open, checks it says each of says, runs axe, cancels
   * (nothing sent), opens it again and confirms with confirm; then checks the scripted Argo CD
   * received exactly one more action, matching sent.
   */
  async function confirmed(name, open, says, confirm, sent) {
    const before = (await received(argo)).length;
    await open.click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    const text = flat(await dialog.innerText());
    check(says.every((re) => re.test(text)), `the ${name} confirmation says what will happen (${text})`);
    await axe(page, `${name} confirmation`);
    await shot(page, `confirm-${name.replace(/\s+/g, '-')}`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await waited(`Cancel closes the ${name} confirmation`, () => dialog.waitFor({ state: 'detached' }));
    const cancelled = await received(argo);
    check(cancelled.length === before, `cancelling the ${name} sends nothing to Argo CD (${JSON.stringify(cancelled.slice(before))})`);
    await open.click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: confirm, exact: true }).click();
    await waited(`confirming the ${name} closes its dialog`, () => dialog.waitFor({ state: 'detached' }));
    const after = await received(argo);
    check(after.length === before + 1 && sent.test(after.at(-1)), `the scripted Argo CD received the ${name} (${JSON.stringify(after.slice(before))})`);
  }

  // A history to roll back to: Argo CD deployed revA (an automated sync, outside Portside), and the
  // rollout shows up in the history live.
  check((await argo.ask(`/deployed payments-api ${revA}`)) === 'ok', 'the scripted Argo CD records a deploy of revision A');
  await waited('the rollout of revision A appears in the history live', () => history.getByRole('listitem').filter({ hasText: revA.slice(0, 10) }).first().waitFor());

  // Sync, refused first: a sync window forbids it. The dialog stays open and shows the refusal
  // with the server's message and request ID.
  check((await argo.ask('/block payments-api on')) === 'ok', 'the scripted Argo CD puts payments-api in a deny sync window');
  const syncButton = deployment.getByRole('button', { name: 'Sync', exact: true });
  await syncButton.click();
  const refusedDialog = page.getByRole('alertdialog');
  await refusedDialog.getByRole('button', { name: 'Sync now' }).click();
  const refusal = refusedDialog.getByRole('alert');
  await waited('a refused sync shows the refusal in the dialog', () => refusal.waitFor());
  const refusalText = flat(await refusal.innerText());
  const requestId = await refusal.getByTestId('request-id').innerText().catch(() => '');
  check(/Portside refused/.test(refusalText) && /sync window forbids syncing/.test(refusalText) && /Code CONFLICT/.test(refusalText) && requestId.length > 0,
    `the refusal says why (the sync window), its code and its request ID (${refusalText})`);
  await axe(page, 'sync refused');
  await shot(page, 'confirm-sync-refused');
  await refusedDialog.getByRole('button', { name: 'Cancel' }).click();
  await refusedDialog.waitFor({ state: 'detached' });
  check((await operation('RUNNING').count()) === 0, 'a refused sync starts nothing');
  check((await argo.ask('/block payments-api off')) === 'ok', 'the scripted Argo CD lifts the sync window');

  await confirmed('sync', syncButton,
    [/Sync payments-api in production\?/, /component payments-api, production/, new RegExp(`runs revision ${revA.slice(0, 10)} now`)],
    'Sync now', new RegExp(`^sync \\S* ?on ${app}$`));
  await waited('the sync shows on screen as a running operation asked by bob', () => operation('RUNNING').filter({ hasText: 'asked by bob' }).waitFor());
  check((await argo.ask(`/succeed payments-api ${revB}`)) === 'ok', 'the scripted Argo CD finishes the sync at revision B');
  await waited('the finished sync shows live: operation succeeded, revision B', () => operation('SUCCEEDED').waitFor());
  await waited('the rollout of revision B joins the history live', () => history.getByRole('listitem').filter({ hasText: revB.slice(0, 10) }).first().waitFor());
  check(flat(await deployment.innerText()).includes(`revision ${revB.slice(0, 10)}`), 'the deployment runs revision B on screen');

  // Roll back to the history entry of revision A (Argo CD numbers its history from 0).
  const entryA = history.getByRole('listitem').filter({ hasText: revA.slice(0, 10) }).first();
  await confirmed('rollback', entryA.getByRole('button', { name: 'Roll back to this' }),
    [/Roll payments-api in production back\?/, /component payments-api, production/, new RegExp(`back to revision ${revA}`), /history entry 0/],
    'Roll back', new RegExp(`^rollback 0 on ${app}$`));
  await waited('the rollback shows on screen as a running operation', () => operation('RUNNING').waitFor());
  check((await argo.ask(`/succeed payments-api ${revA}`)) === 'ok', 'the scripted Argo CD finishes the rollback at revision A');
  await waited('the rolled-back deployment runs revision A on screen', () => deployment.locator('p').filter({ hasText: `revision ${revA.slice(0, 10)}` }).waitFor());
  await waited('the rollback joins the history (revision A twice)', () => page.waitForFunction((rev) =>
    [...document.querySelectorAll('section[aria-labelledby=rollouts] li')].filter((li) => li.textContent.includes(rev)).length >= 2, revA.slice(0, 10)));

  // Refresh: Argo CD compares with git again.
  await confirmed('refresh', deployment.getByRole('button', { name: 'Refresh', exact: true }),
    [/Refresh payments-api in production\?/, /compares payments-api \(component payments-api, production\) with git/],
    'Refresh now', new RegExp(`^refresh (normal|hard) on ${app}$`));

  // Promote fully from step 4 of 5: the canary takes all traffic.
  await waited('the canary is paused at step 4 of 5', () => deployment.locator('.canary-state[data-step="4"][data-phase="Paused"]').waitFor());
  await confirmed('promote fully', deployment.getByRole('button', { name: 'Promote fully', exact: true }),
    [/Promote the canary of payments-api in production fully\?/, /now at step 4 of 5, 50%/, /takes all traffic/],
    'Promote fully', new RegExp(`^promote-full ${rollout}$`));
  await waited('promoted fully, the canary is healthy with all steps done, on screen', () => canary.filter({ hasText: /all steps done/ }).and(deployment.locator('[data-phase="Healthy"]')).waitFor());

  // A new canary (Argo Rollouts at step 2, paused), aborted, then retried.
  check((await argo.ask('/step payments-api 1')) === 'ok', 'the scripted Argo CD starts a new canary, paused at step 2');
  await waited('the new canary shows paused at step 2, 20 %', () => deployment.locator('.canary-state[data-step="2"][data-phase="Paused"][data-weight="20"]').waitFor());
  await confirmed('abort', deployment.getByRole('button', { name: 'Abort', exact: true }),
    [/Abort the canary of payments-api in production\?/, /stops at step 2 of 5 \(20%\)/, /returns to the stable version/],
    'Abort canary', new RegExp(`^abort ${rollout}$`));
  await waited('aborted, the canary says so on screen', () => canary.filter({ hasText: /aborted/ }).waitFor());
  check((await deployment.getByRole('button', { name: /^(Promote|Promote fully|Abort)$/ }).count()) === 0, 'an aborted canary offers no promote or abort');
  await confirmed('retry', deployment.getByRole('button', { name: 'Retry', exact: true }),
    [/Retry the canary of payments-api in production\?/, /starts again from its first step \(step 1 of 5, 20%\)/],
    'Retry', new RegExp(`^retry ${rollout}$`));
  await waited('retried, the canary runs again from step 1, 20 %, on screen', () => deployment.locator('.canary-state[data-step="1"][data-phase="Progressing"][data-weight="20"]').waitFor());
  check(!/aborted/.test(await canary.innerText()), 'the retried canary is no longer aborted on screen');

  // Back where the run found it: paused at step 4, 50 %.
  check((await argo.ask('/step payments-api 3')) === 'ok', 'the scripted Argo CD pauses the canary at step 4 again');
  await waited('the canary is paused at step 4 again', () => deployment.locator('.canary-state[data-step="4"][data-phase="Paused"][data-weight="50"]').waitFor());
  check(await page.evaluate(() => window.__actionsSameDocument === true), 'every action moved the page without a reload');
}

/**
 * carol, a viewer, on payments-api's page: no action is offered (the history has entries an owner
 * could roll back to), and each one forced through the API is refused FORBIDDEN with a request ID,
 * Argo CD receiving none of them.
 */
export async function viewerActions({ page, argo, check, waited, axe }) {
  const history = page.getByRole('region', { name: /^Rollout history/ });
  await waited('the viewer sees the rollout history', () => history.getByRole('listitem').first().waitFor());
  await waited('the viewer sees the canary paused (where an owner is offered promote and abort)', () => page.locator('.canary-state[data-phase="Paused"]').waitFor());
  const offered = await page.getByRole('button', { name: /^(Sync|Refresh|Terminate|Promote|Promote fully|Abort|Retry|Roll back to this|Refresh from source)$/ }).allInnerTexts();
  check(offered.length === 0, `the viewer is offered none of the deployment actions (${JSON.stringify(offered)})`);
  await axe(page, 'component (viewer, no actions)');

  const before = await received(argo);
  const input = `component: "${component}"`;
  for (const [name, mutation] of [
    ['sync', `syncDeployment(input: {${input}})`],
    ['rollback', `rollbackDeployment(input: {${input}, historyId: 0})`],
    ['refresh', `refreshDeployment(input: {${input}})`],
    ['terminate', `terminateDeploymentOperation(input: {${input}})`],
    ['promote', `promoteDeployment(input: {${input}})`],
    ['promote fully', `promoteDeployment(input: {${input}, full: true})`],
    ['abort', `abortDeployment(input: {${input}})`],
    ['retry', `retryDeployment(input: {${input}})`],
  ]) {
    const forced = await page.evaluate(async (query) => {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' }, body: JSON.stringify({ query }) });
      return { body: await res.json(), requestId: res.headers.get('X-Request-ID') };
    }, `mutation { ${mutation} { deployment { application } } }`);
    check(forced.body.errors?.[0]?.extensions?.code === 'FORBIDDEN' && !forced.body.data?.[mutation.split('(')[0]] && !!forced.requestId,
      `a forced ${name} from the viewer is refused FORBIDDEN with a request ID (${JSON.stringify(forced.body.errors?.[0] ?? forced.body)})`);
  }
  const after = await received(argo);
  check(after.length === before.length, `the scripted Argo CD received nothing from the viewer (${JSON.stringify(after.slice(before.length))})`);
}

/**
 * A lost live connection, on a component page (page) whose canary is paused at step 4: the
 * server is stopped (restart.stop), the page says live updates are interrupted; Argo CD moves on
 * meanwhile; the server starts again (restart.start), the page says it is live again, catches up
 * (step 2), and a rollout event made after the restore (step 3, shown nowhere before) reaches the
 * screen, all in the same document.
 */
export async function lostConnection({ page, argo, check, waited, axe, shot, restart }) {
  const deployment = page.getByRole('article', { name: 'Deployment payments-api in production' });
  const shell = page.locator('.live-indicator');
  await waited('the page is live (the shell says so)', () => page.getByRole('status').filter({ hasText: /^Live$/ }).waitFor());
  await deployment.locator('.canary-state[data-step="4"][data-phase="Paused"]').waitFor();
  await page.evaluate(() => { window.__liveSameDocument = true; });
  // What the page hears from here on, told if the catch-up below fails: the subscriptions'
  // frames and the deployments' re-reads, each with the canary it carried.
  const heard = [];
  const t0 = Date.now();
  const canaryOf = (d) => (d ? `${d.application}: ${d.canary ? `step ${d.canary.currentStep} ${d.canary.phase}` : 'no canary'}${d.stale ? ' (stale)' : ''}` : '-');
  page.on('websocket', (ws) => {
    heard.push(`${Date.now() - t0} ms: socket opened`);
    const frame = (dir) => (f) => {
      const msg = (() => { try { return JSON.parse(String(f.payload)); } catch { return null; } })();
      if (msg?.type === 'ping' || msg?.type === 'pong') return;
      const d = msg?.payload?.data?.deploymentChanged;
      const op = msg?.type === 'subscribe' ? /subscription (\w+)/.exec(msg.payload?.query ?? '')?.[1] : '';
      heard.push(`${Date.now() - t0} ms: ${dir} ${msg?.type ?? 'frame'} ${msg?.id ?? ''} ${op ?? ''}${d ? canaryOf(d) : msg?.type === 'next' ? Object.keys(msg.payload?.data ?? {}).join() : ''}`);
    };
    ws.on('framereceived', frame('<'));
    ws.on('framesent', frame('>'));
    ws.on('close', () => heard.push(`${Date.now() - t0} ms: socket closed`));
  });
  page.on('request', (r) => {
    if (/\/graphql(\?|$)/.test(r.url()) && /ComponentDelivery/.test(r.url() + (r.postData() ?? ''))) heard.push(`${Date.now() - t0} ms: re-read asked`);
  });
  page.on('response', async (r) => {
    if (!/\/graphql(\?|$)/.test(r.url()) || !/ComponentDelivery/.test(r.url() + (r.request().postData() ?? ''))) return;
    const body = await r.json().catch(() => null);
    heard.push(`${Date.now() - t0} ms: re-read answered ${(body?.data?.entity?.deployments ?? []).map(canaryOf).join(', ') || JSON.stringify(body?.errors ?? body)}`);
  });

  await restart.stop();
  heard.push(`${Date.now() - t0} ms: server stopped`);
  await waited('with the server gone, the shell says live updates are interrupted', () =>
    page.getByRole('status').filter({ hasText: 'Live updates interrupted: reconnecting…' }).waitFor({ timeout: 60000 }));
  check(await shell.isVisible() && /interrupted/.test(await shell.innerText()), `the interruption is visible text (${await shell.innerText()})`);
  await axe(page, 'component (live updates interrupted)');
  await shot(page, 'component-live-interrupted');

  // Argo CD moves on while Portside is down: the page learns it once it is back.
  check((await argo.ask('/step payments-api 1')) === 'ok', 'meanwhile the scripted Argo CD starts a new canary, paused at step 2');
  heard.push(`${Date.now() - t0} ms: Argo CD at step 2`);
  await restart.start();
  heard.push(`${Date.now() - t0} ms: server started`);
  await waited('reconnected, the shell says live updates resumed', () =>
    page.getByRole('status').filter({ hasText: 'Live again: reconnected' }).waitFor({ timeout: 60000 }));
  check(!/interrupted/.test(await shell.innerText()), 'the interruption is no longer said');
  const caught = await waited('back, the page catches up with what happened meanwhile (step 2, paused)', () =>
    deployment.locator('.canary-state[data-step="2"][data-phase="Paused"]').waitFor({ timeout: 60000 }));
  // A step the page has not shown before: it can only come from an event after the restore.
  heard.push(`${Date.now() - t0} ms: Argo CD to step 3`);
  check((await argo.ask('/step payments-api 2')) === 'ok', 'after the restore the scripted Argo CD moves the canary to step 3, 50 %');
  const live = await waited('a rollout event after the restore reaches the screen live', () =>
    deployment.locator('.canary-state[data-step="3"][data-phase="Progressing"][data-weight="50"]').waitFor({ timeout: 60000 }));
  if (!caught || !live) {
    const shown = await deployment.locator('.canary-state').evaluateAll((els) => els.map((e) => JSON.stringify(e.dataset)));
    console.error(`the page shows ${shown.join(', ') || 'no canary'}; what it heard since the server stopped:\n  ${heard.join('\n  ')}`);
  }
  check(await page.evaluate(() => window.__liveSameDocument === true), 'the page lost and regained its live updates without a reload');
  await axe(page, 'component (live again)');
}
