// The audit log and the keyboard, end to end (called from run.mjs, which owns the browser, the
// server and the check/waited/axe helpers, passed in as t).
//
// auditLog: alice (an admin) finds, on /audit, records the run made earlier (bob's refresh, carol's
// refused promote) by each filter (actor, action, resource, outcome, a time range), sees the empty
// state for a time range that excludes them, and a link to the view opens the same view; carol (a
// viewer) is not offered the page and is refused it. Screenshots of the admin's page.
//
// keyboard: the main flows with the keyboard alone: Tab reaches the skip link, the navigation and
// the search box; the catalog's results and a component link are reached and opened; a
// confirmation dialog keeps focus inside, Escape closes it and focus returns to its opener; and
// every element focused along the way shows a focus ring (a computed outline or box-shadow).
import { join } from 'node:path';

/** The audit records of one filter, as the API answers the page's viewer. */
async function records(page, filter) {
  return page.evaluate(async (f) => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Portside-CSRF': '1' },
      body: JSON.stringify({ query: 'query($f: AuditFilter) { auditRecords(filter: $f, first: 50) { totalCount nodes { id at actor action resource outcome requestId } } }', variables: { f } }),
    });
    return (await res.json()).data?.auditRecords;
  }, filter);
}

/** The rows the audit page shows, as [actor, action, resource, outcome, requestId]. */
async function shown(page) {
  return page.locator('table[aria-label="Audit records"] tbody tr').evaluateAll((rows) =>
    rows.map((r) => {
      const td = [...r.querySelectorAll('td')].map((c) => c.textContent.trim());
      return { actor: td[1].replace(/\s*\(.*\)$/, ''), action: td[2], resource: td[3], outcome: r.dataset.outcome, requestId: td[5] };
    }),
  );
}

/** A datetime-local input's value for an instant, in the browser's zone (what a person types). */
function localInput(page, iso) {
  return page.evaluate((s) => {
    const d = new Date(s);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }, iso);
}

export async function auditLog(t, { admin, viewer }) {
  const { base, check, waited, axe } = t;
  console.log('the audit log (alice, an admin):');
  // What the run did earlier, as the API records it: bob's confirmed refresh of the demo location
  // and carol's forced promote, refused.
  const refresh = (await records(admin, { actor: 'bob', action: 'catalog.location.refresh', outcome: 'OK' }))?.nodes?.[0];
  const denied = (await records(admin, { actor: 'carol', outcome: 'DENIED' }))?.nodes?.[0];
  check(!!refresh?.resource && !!denied, `the run left records to find: bob's refresh (${refresh?.resource}) and carol's refusal (${denied?.action})`);
  if (!refresh || !denied) return;

  await admin.goto(base + '/');
  await waited('an admin is offered the audit log in the navigation', () => admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).waitFor());
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await admin.waitForURL((u) => u.pathname === '/audit');
  await waited('the audit log lists records', () => admin.locator('table[aria-label="Audit records"] tbody tr').first().waitFor());
  await axe(admin, 'audit (admin)');

  const form = admin.getByRole('form', { name: 'Filter audit records' });
  const filterBy = async (fields) => {
    await form.getByRole('button', { name: 'Clear' }).click();
    await admin.waitForURL((u) => u.search === '');
    for (const [label, value] of Object.entries(fields)) {
      if (label === 'Outcome') continue;
      await form.getByLabel(label, { exact: true }).fill(value);
    }
    if (fields.Outcome) await form.getByRole('combobox', { name: 'Outcome' }).selectOption(fields.Outcome);
    await form.getByRole('button', { name: 'Filter' }).click();
  };
  const found = async (msg, wantParam, wantRow, each) => {
    await waited(`${msg}: the filter is in the URL`, () => admin.waitForURL((u) => Object.entries(wantParam).every(([k, v]) => u.searchParams.get(k) === v)));
    // The rows of the filter before stay until the answer comes: wait (in the driver, up to 30 s)
    // for rows that all match and include the record looked for, then report what is shown.
    let rows = [];
    for (let i = 0; i < 150; i++) {
      rows = await shown(admin);
      if (rows.length > 0 && rows.every(each) && rows.some((r) => r.requestId === wantRow.requestId)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    check(rows.some((r) => r.requestId === wantRow.requestId), `${msg}: the record shows (${wantRow.requestId})`);
    check(rows.length > 0 && rows.every(each), `${msg}: every row shown matches (${rows.length} rows; first ${JSON.stringify(rows[0])})`);
  };

  await filterBy({ Actor: 'bob' });
  await found('by actor bob', { actor: 'bob' }, refresh, (r) => r.actor === 'bob');
  await filterBy({ Action: 'catalog.location.refresh' });
  await found('by action catalog.location.refresh', { action: 'catalog.location.refresh' }, refresh, (r) => r.action === 'catalog.location.refresh');
  await filterBy({ Resource: refresh.resource });
  await found(`by resource ${refresh.resource}`, { resource: refresh.resource }, refresh, (r) => r.resource === refresh.resource);
  await filterBy({ Outcome: 'DENIED' });
  await found('by outcome denied', { outcome: 'DENIED' }, denied, (r) => r.outcome === 'DENIED');
  // A time range around bob's refresh finds it; one that ends before it shows the empty state.
  const at = new Date(refresh.at);
  const from = await localInput(admin, new Date(at.getTime() - 60_000).toISOString());
  const until = await localInput(admin, new Date(at.getTime() + 120_000).toISOString());
  await filterBy({ Actor: 'bob', Action: 'catalog.location.refresh', From: from, Until: until });
  await found('by a time range around the refresh', { actor: 'bob', since: new Date(from).toISOString() }, refresh, (r) => r.actor === 'bob');
  const ranged = new URL(admin.url());
  const rangedRows = await shown(admin);
  await axe(admin, 'audit (filtered)');
  const before = await localInput(admin, new Date(at.getTime() - 24 * 3600_000).toISOString());
  const beforeEnd = await localInput(admin, new Date(at.getTime() - 23 * 3600_000).toISOString());
  await filterBy({ Actor: 'bob', From: before, Until: beforeEnd });
  await waited('a time range before the run shows the empty state', () => admin.getByText(/No record matches these filters/).waitFor());
  check((await admin.locator('table[aria-label="Audit records"]').count()) === 0 && new URL(admin.url()).searchParams.get('until') === new Date(beforeEnd).toISOString(),
    `the empty view lists nothing and keeps its range in the URL (${admin.url()})`);
  await axe(admin, 'audit (empty)');
  // The URL reproduces the view: opened afresh, the same filters and the same records.
  const again = await t.newPage(admin.context());
  await again.goto(ranged.href);
  await waited('the filtered view opened from its URL lists records', () => again.locator('table[aria-label="Audit records"] tbody tr').first().waitFor());
  const reproduced = await shown(again);
  check(JSON.stringify(reproduced) === JSON.stringify(rangedRows) && (await again.getByRole('textbox', { name: 'Actor' }).inputValue()) === 'bob' && (await again.getByLabel('From', { exact: true }).inputValue()) === from,
    `the URL reproduces the view: its filters in the form, the same ${reproduced.length} records`);
  await again.close();

  // A viewer is not offered the page, and opening it is refused.
  await viewer.goto(base + '/');
  await viewer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog' }).waitFor();
  check((await viewer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).count()) === 0, 'a viewer is not offered the audit log');
  await viewer.goto(base + '/audit?actor=bob');
  await waited('a viewer opening the audit log is told it is for admins', () => viewer.getByRole('alert').filter({ hasText: 'The audit log is for admins' }).waitFor());
  check((await viewer.locator('table[aria-label="Audit records"]').count()) === 0, 'a viewer is shown no records');
  await axe(viewer, 'audit (viewer refused)');

  if (t.takeShots) {
    const state = await admin.context().storageState();
    for (const scheme of ['light', 'dark']) {
      for (const [vname, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
        const ctx = await t.browser.newContext({ storageState: state, colorScheme: scheme, viewport, deviceScaleFactor: 1 });
        const p = await ctx.newPage();
        for (const [name, url] of [['audit-admin', ranged.pathname + ranged.search], ['audit-admin-all', '/audit']]) {
          await p.goto(base + url);
          await p.locator('table[aria-label="Audit records"]').waitFor().catch(() => {});
          await p.screenshot({ path: join(t.shots, `${name}-${vname}-${scheme}.jpg`), fullPage: true, type: 'jpeg', quality: 70 });
        }
        await ctx.close();
      }
    }
  }
}

/** What has focus: a short description, and whether a focus ring shows on it. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { what: 'body', ring: false };
    // react-aria's checkbox keeps its input visually hidden: the ring is drawn on its box.
    const drawn = el.closest('label.checkbox')?.querySelector('.checkbox-box') ?? el;
    const cs = getComputedStyle(drawn);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== '';
    // A node of the dependency graph (an SVG link) draws its ring as its box's border: focused, it
    // is thicker and of the focus colour than an unfocused node's.
    if (el instanceof SVGElement) {
      const box = el.querySelector('rect');
      const other = [...document.querySelectorAll('a.graph-link rect')].find((r) => r !== box);
      const a = box && getComputedStyle(box);
      const b = other && getComputedStyle(other);
      const ring = !!a && !!b && a.stroke !== 'none' && parseFloat(a.strokeWidth) >= 3 && (a.stroke !== b.stroke || a.strokeWidth !== b.strokeWidth);
      const label = (el.getAttribute('aria-label') || '').slice(0, 40);
      return { what: `svg a "${label}"`, ring, href: el.getAttribute('href') };
    }
    const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return { what: `${el.tagName.toLowerCase()}${el.getAttribute('role') ? `[role=${el.getAttribute('role')}]` : ''} "${name}"`, ring: outline || shadow, href: el.getAttribute('href') };
  });
}

/**
 * Presses Tab until what has focus matches the CSS selector sel (and, given text, has exactly that
 * text), at most max presses; returns the presses and the elements focused on the way without a ring.
 */
async function tabTo(page, sel, max, text) {
  const noRing = [];
  const path = [];
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    path.push(f.what);
    // body is the browser's own stop between the end of the page and its start again (the walk
    // wrapped), not an element of the page without a ring. Any other stop without a ring says
    // where the walk was: the stops before it.
    if (!f.ring && f.what !== 'body') noRing.push(`${f.what} (after ${path.slice(-4, -1).join(' → ')})`);
    const at = await page.evaluate(([s, x]) => {
      const el = document.activeElement;
      return !!el?.matches(s) && (x === undefined || el.textContent.trim() === x);
    }, [sel, text]);
    if (at) return { presses: i, noRing };
  }
  return { presses: -1, noRing };
}

export async function keyboard(t, page) {
  const { base, check, waited } = t;
  console.log('the keyboard:');
  // From the top of home: the skip link, then the navigation, then the page's search box.
  await page.goto(base + '/');
  await page.getByRole('searchbox').first().waitFor();
  await page.keyboard.press('Tab');
  const skip = await focused(page);
  check(/Skip to content/.test(skip.what) && skip.ring, `the first Tab reaches the skip link, with a focus ring (${JSON.stringify(skip)})`);
  const toNav = await tabTo(page, 'nav[aria-label=Main] a[href="/catalog"]', 10);
  check(toNav.presses > 0 && toNav.noRing.length === 0, `Tab reaches the navigation's Catalog link, every stop with a focus ring (${toNav.presses} presses; without a ring: ${toNav.noRing.join(', ') || 'none'})`);
  const toSearch = await tabTo(page, 'main input[type=search]', 30);
  check(toSearch.presses > 0 && toSearch.noRing.length === 0, `Tab reaches home's search box, every stop with a focus ring (${toSearch.presses} presses; without a ring: ${toSearch.noRing.join(', ') || 'none'})`);
  // Searching from home with the keyboard alone opens the catalog explorer with the text.
  await page.keyboard.type('payments');
  await page.keyboard.press('Enter');
  await waited('Enter in home\'s search box opens the catalog with the search', () => page.waitForURL((u) => u.pathname === '/catalog' && u.searchParams.get('q') === 'payments'));
  await waited('the catalog answers the search', () => page.locator('section.results[data-results-for="payments"] table tbody tr').first().waitFor());
  // The results and a component's link, by Tab alone from the top of the page, through every
  // facet, then Enter; and past the facets by the skip link after the search box.
  await page.locator('main').focus();
  const throughFacets = await tabTo(page, 'section.results table tbody a[href^="/catalog/default/component/"]', 150);
  check(throughFacets.presses > 0 && throughFacets.noRing.length === 0, `Tab reaches a component's link through the facets, every stop with a focus ring (${throughFacets.presses} presses; without a ring: ${throughFacets.noRing.join(', ') || 'none'})`);
  await page.locator('main').focus();
  const toSkip = await tabTo(page, 'a[href="#results"]', 10);
  const skipRing = await focused(page);
  check(toSkip.presses > 0 && skipRing.ring && (await page.locator('a[href="#results"]').isVisible()), `after the search box, Tab reaches "Skip the filters to the results", shown with a focus ring (${toSkip.presses} presses)`);
  await page.keyboard.press('Enter');
  const toResult = await tabTo(page, 'section.results table tbody a[href^="/catalog/default/component/"]', 15);
  const link = await focused(page);
  check(toResult.presses > 0 && toResult.noRing.length === 0, `from the skip link, Tab reaches a component's link in the results, every stop with a focus ring (${toResult.presses} presses, at ${link.what}; without a ring: ${toResult.noRing.join(', ') || 'none'})`);
  if (toResult.presses > 0) {
    await page.keyboard.press('Enter');
    await waited(`Enter opens the component (${link.href})`, () => page.waitForURL((u) => u.pathname === link.href));
    await waited('the component page shows its About section', () => page.getByRole('heading', { name: 'About' }).waitFor());
    const afterNav = await page.evaluate(() => document.activeElement?.id);
    check(afterNav === 'main', `after opening a page, focus is at its start (${afterNav})`);
  }

  // A confirmation dialog: reached by Tab, opened by Enter, focus kept inside, Escape closes it
  // and focus returns to the button that opened it. On a component no Argo CD follows: on
  // payments-api the live deployment (its canary, its operation) can take the focused button
  // away mid-walk, which is the page following Argo CD, not a keyboard trap.
  await page.goto(base + '/catalog/default/component/event-collector');
  const opener = page.getByRole('button', { name: 'Refresh from source' });
  await waited('the component page offers Refresh from source', () => opener.waitFor());
  // Every section loaded: a section still loading replaces what it shows, focus included.
  await page.waitForFunction(() => !document.querySelector('main .loading'), null, { timeout: 30000 }).catch(() => {});
  await page.locator('main').focus();
  const toOpener = await tabTo(page, 'button', 150, 'Refresh from source');
  check(toOpener.presses > 0 && toOpener.noRing.length === 0, `Tab reaches Refresh from source, every stop with a focus ring (${toOpener.presses} presses; without a ring: ${toOpener.noRing.join(', ') || 'none'})`);
  if (toOpener.presses < 0) await opener.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('alertdialog');
  await waited('Enter opens the confirmation', () => dialog.waitFor());
  const inside = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press(i === 3 ? 'Shift+Tab' : 'Tab');
    inside.push(await page.evaluate(() => ({ inside: !!document.activeElement?.closest('[role=alertdialog]'), what: document.activeElement?.textContent?.trim() })));
  }
  const rings = [];
  for (let i = 0; i < 2; i++) {
    await page.keyboard.press('Tab');
    rings.push(await focused(page));
  }
  check(inside.every((x) => x.inside), `Tab and Shift+Tab stay inside the dialog (${inside.map((x) => x.what).join(' → ')})`);
  check(rings.every((r) => r.ring), `the dialog's buttons show a focus ring (${rings.map((r) => `${r.what}: ${r.ring}`).join(', ')})`);
  await page.keyboard.press('Escape');
  await waited('Escape closes the dialog', () => dialog.waitFor({ state: 'detached' }));
  // react-aria gives focus back on the frame after the dialog goes: wait for it (up to 10 s).
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Refresh from source', null, { timeout: 10000 }).catch(() => {});
  const back = await page.evaluate(() => document.activeElement?.textContent?.trim().slice(0, 60));
  check(back === 'Refresh from source', `focus returns to the button that opened the dialog (${back})`);

  // The account menu: opened from the keyboard, Escape closes it and focus returns to its button.
  await page.getByRole('button', { name: /^Account/ }).focus();
  await page.keyboard.press('Enter');
  await waited('Enter opens the account menu', () => page.getByRole('menu').waitFor());
  const menuFocus = await page.evaluate(() => document.activeElement?.getAttribute('role'));
  check(menuFocus === 'menuitem', `focus moves into the menu (${menuFocus})`);
  await page.keyboard.press('Escape');
  await waited('Escape closes the menu', () => page.getByRole('menu').waitFor({ state: 'detached' }));
  // The account button itself (its name starts "Account"), not an element around it: a container
  // of the whole shell also holds the word while focus is on its way back.
  const onAccount = () => {
    const el = document.activeElement;
    const name = (el?.getAttribute('aria-label') ?? el?.textContent ?? '').trim();
    return el?.tagName === 'BUTTON' && name.startsWith('Account');
  };
  await page.waitForFunction(onAccount, null, { timeout: 10000 }).catch(() => {});
  const menuBack = await page.evaluate(() => `${document.activeElement?.tagName.toLowerCase()} "${(document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '').trim().slice(0, 60)}"`);
  check(await page.evaluate(onAccount), `focus returns to the account button (${menuBack})`);
}
