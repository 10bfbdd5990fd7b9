// The release build as an ordinary static host serves it: `dist` on a plain file server (no SPA
// fallback of its own; a path with no file gets 404.html, as GitHub Pages, Netlify or Cloudflare
// Pages do). Every route survives a reload; on every page the Content-Security-Policy reports no
// violation and axe-core finds no accessibility violation.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DIST, axeViolations, caseFile, openPage, screenshot, startStaticServer, useApp, waitForApp } from './harness.mjs';

const app = useApp({ dir: DIST, plain: true });

/**
 * Opens a page that records every `securitypolicyviolation` event of every document it loads
 * (the listener is installed before any page script runs, and survives reloads).
 */
export async function openWatchedPage(browser, url) {
  const opened = await openPage(browser, url);
  const violations = [];
  await opened.page.exposeFunction('__bedsideCspViolation', (v) => violations.push(v));
  await opened.page.addInitScript(() => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) =>
        window.__bedsideCspViolation({
          page: location.pathname,
          directive: e.effectiveDirective,
          blocked: e.blockedURI,
          sample: e.sample,
        }),
      true,
    );
  });
  return { ...opened, violations };
}

/** Console errors, less the one Chromium logs for a document served with status 404 (the
 * static host's fallback page for a client-side route: expected here). */
const realConsoleErrors = (log) =>
  log.consoleErrors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));

test('dist carries a 404.html fallback identical to index.html, and the server has no SPA fallback', async () => {
  assert.equal(
    readFileSync(join(DIST, '404.html'), 'utf8'),
    readFileSync(join(DIST, 'index.html'), 'utf8'),
    'scripts/csp_hashes.py copies the finished index.html (CSP hashes filled in) to 404.html',
  );
  const deep = await fetch(`${app.server.url}/history`);
  assert.equal(deep.status, 404, 'the plain server does not pretend /history exists');
  assert.match(await deep.text(), /<link[^>]+\.wasm|bedside/i, 'its 404 page is the app');
  const missingAsset = await fetch(`${app.server.url}/no-such-file.js`);
  assert.equal(missingAsset.status, 404);
  const root = await fetch(`${app.server.url}/`);
  assert.equal(root.status, 200);
});

test('every route survives a reload on a plain static host, with no CSP violation and no axe violation', async () => {
  const { context, page, log, violations } = await openWatchedPage(app.chrome.browser, app.server.url);
  const checked = [];
  const check = async (path, heading, name, landsOn = path) => {
    await page.goto(`${app.server.url}${path}`);
    await waitForApp(page);
    await page.reload();
    await waitForApp(page);
    await page.waitForFunction((h) => document.querySelector('h1')?.innerText === h, heading, { timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, landsOn, 'the reload stays on the route');
    const axe = await axeViolations(page);
    assert.deepEqual(axe, [], `axe-core on ${path}`);
    await screenshot(page, `hosting-${name}`);
    checked.push(path);
  };

  // A real encounter and its debrief, for the two routes with an id.
  await page.goto(app.server.url);
  await waitForApp(page);
  await page.locator('[data-case-id="anaphylaxis-peanut"] button', { hasText: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();
  const encounterPath = new URL(page.url()).pathname;
  const id = encounterPath.split('/').pop();
  await page.locator('.save-state[data-save-state="saved"]').waitFor();

  await check('/', 'Case library', 'library');
  const title = titleOf('anaphylaxis-peanut');
  await check(encounterPath, title, 'encounter');
  await page.locator('#speak-input').waitFor();
  // /encounter reopens the open encounter (a client-side redirect).
  await check('/encounter', title, 'encounter-landing', encounterPath);

  // End it, then the debrief route.
  await page.locator('#open-end-form').click();
  await page.locator('#end-diagnosis').fill('Anaphylaxis');
  // The end form is a page in its own right for axe.
  assert.deepEqual(await axeViolations(page), [], 'axe-core on the end form');
  await page.locator('#end-submit').click();
  await page.waitForURL(new RegExp(`/debrief/${id}$`));
  await check(`/debrief/${id}`, `Debrief: ${title}`, 'debrief');

  await check('/history', 'History', 'history');
  await check('/evaluate', 'Evaluate', 'evaluate');
  await check('/compare', 'Compare', 'compare');
  await check('/settings', 'Settings', 'settings');
  await check('/no-such-page', 'Page not found', 'not-found');

  assert.deepEqual(violations, [], 'no Content-Security-Policy violation on any page');
  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(realConsoleErrors(log), []);
  assert.deepEqual(log.foreignRequests, []);
  assert.equal(checked.length, 9);
  await context.close();
});

function titleOf(caseId) {
  return caseFile(caseId).meta.title;
}

test('installable: a manifest with icons; after the first visit the app works with the network cut, and a new release replaces the cache', async () => {
  // A copy of dist, so the test can publish a "new release" of the service worker.
  const site = mkdtempSync(join(tmpdir(), 'bedside-site-'));
  cpSync(DIST, site, { recursive: true });
  const host = await startStaticServer(site, { plain: true });
  let hostUp = true;
  try {
    const manifest = await (await fetch(`${host.url}/manifest.webmanifest`)).json();
    assert.equal(manifest.start_url, '/');
    assert.equal(manifest.display, 'standalone');
    for (const size of ['192x192', '512x512']) {
      const icon = manifest.icons.find((i) => i.sizes === size && i.type === 'image/png');
      assert.ok(icon, `a ${size} PNG icon`);
      assert.equal((await fetch(`${host.url}${icon.src}`)).status, 200, icon.src);
    }
    const sw = readFileSync(join(site, 'sw.js'), 'utf8');
    assert.ok(!sw.includes('__BEDSIDE_'), 'the post-build hook filled in the service worker');
    const wasm = readFileSync(join(site, 'index.html'), 'utf8').match(/[\w-]+_bg\.wasm/)[0];
    assert.ok(sw.includes(`/${wasm}`), 'the wasm is precached');

    const { context, page, log, violations } = await openWatchedPage(app.chrome.browser, host.url);
    await page.goto(host.url);
    await waitForApp(page);
    assert.equal(await page.locator('link[rel="manifest"]').getAttribute('href'), '/manifest.webmanifest');
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    const version = sw.match(/const VERSION = '([0-9a-f]+)'/)[1];
    const cacheKeys = () => page.evaluate(() => caches.keys());
    assert.deepEqual(await cacheKeys(), [`bedside-${version}`]);

    // A new release: a changed sw.js. The browser installs it; only the new cache remains.
    writeFileSync(join(site, 'sw.js'), sw.replace(`const VERSION = '${version}'`, "const VERSION = 'release2'"));
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
    await page.waitForFunction(
      () => caches.keys().then((k) => k.length === 1 && k[0] === 'bedside-release2'),
      null,
      { timeout: 30_000, polling: 250 },
    );

    // Start an encounter, so there is something of the user's to come back to offline.
    await page.locator('[data-case-id="anaphylaxis-peanut"] button', { hasText: 'Start' }).click();
    await page.waitForURL(/\/encounter\/enc-/);
    await page.locator('.save-state[data-save-state="saved"]').waitFor();
    const encounterPath = new URL(page.url()).pathname;

    // Cut the network: the server is gone and the browser is offline.
    await host.close();
    hostUp = false;
    await context.setOffline(true);
    for (const [path, heading] of [
      ['/', 'Case library'],
      ['/history', 'History'],
      [encounterPath, titleOf('anaphylaxis-peanut')],
      ['/settings', 'Settings'],
    ]) {
      await page.goto(`${host.url}${path}`);
      await waitForApp(page);
      await page.waitForFunction((h) => document.querySelector('h1')?.innerText === h, heading, { timeout: 15_000 });
    }
    await screenshot(page, 'hosting-offline-settings');
    assert.deepEqual(violations, [], 'no CSP violation with the service worker');
    assert.deepEqual(log.pageErrors, []);
    await context.close();
  } finally {
    if (hostUp) await host.close();
    rmSync(site, { recursive: true, force: true });
  }
});
