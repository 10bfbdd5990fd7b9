// The app shell in headless Chromium: loads without errors, renders from wasm, navigates,
// makes no request outside its own origin, and carries a strict Content-Security-Policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openApp, openPage, screenshot, useApp, waitForApp } from './harness.mjs';

const app = useApp();

test('the app loads, renders from wasm, and logs no console errors', async () => {
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  // The static index.html has an empty body: the header exists only if the wasm app mounted.
  const html = await (await fetch(app.server.url)).text();
  assert.doesNotMatch(html, /app-header/, 'the header must come from wasm, not static HTML');
  await page.goto(app.server.url);
  await waitForApp(page);
  await assert.doesNotReject(page.getByRole('link', { name: 'Bedside' }).waitFor());
  assert.equal(await page.title(), 'Bedside — standardized patient simulator');
  assert.equal(await page.locator('h1').innerText(), 'Case library');
  await screenshot(page, 'shell-home');
  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.foreignRequests, []);
  await context.close();
});

test('navigation reaches every page and marks the current one', async () => {
  const { context, page, log } = await openApp(app);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const pages = [
    ['Encounter', '/encounter', 'Encounter'],
    ['History', '/history', 'History'],
    ['Evaluate', '/evaluate', 'Evaluate'],
    ['Compare', '/compare', 'Compare'],
    ['Settings', '/settings', 'Settings'],
    ['Case library', '/', 'Case library'],
  ];
  for (const [label, path, heading] of pages) {
    await nav.getByRole('link', { name: label }).click();
    await page.waitForURL(`${app.server.url}${path}`);
    assert.equal(await page.locator('h1').innerText(), heading);
    assert.equal(
      await nav.getByRole('link', { name: label }).getAttribute('aria-current'),
      'page',
      `${label} should be marked as the current page`,
    );
    await screenshot(page, `shell-nav-${label}`);
  }
  // Client-side routing: back goes to the previous page without a reload.
  await page.goBack();
  await page.waitForURL(`${app.server.url}/settings`);
  assert.equal(await page.locator('h1').innerText(), 'Settings');
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('a deep link loads its page, and an unknown path says so', async () => {
  const { context, page, log } = await openApp(app, { path: '/history' });
  assert.equal(await page.locator('h1').innerText(), 'History');
  await page.goto(`${app.server.url}/no-such-page`);
  await waitForApp(page);
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await screenshot(page, 'shell-not-found');
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('the page has a strict Content-Security-Policy that still allows LLM endpoints', async () => {
  const { context, page } = await openApp(app);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  const directives = Object.fromEntries(
    csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
  );
  assert.deepEqual(directives['default-src'], ["'none'"]);
  assert.ok(!directives['script-src'].includes("'unsafe-inline'"), 'no unsafe-inline scripts');
  assert.ok(!directives['script-src'].includes("'unsafe-eval'"), 'no unsafe-eval');
  assert.ok(directives['script-src'].some((v) => v.startsWith("'sha256-")), 'inline loader hashed');
  assert.ok(!csp.includes('__'), 'every placeholder was filled in by scripts/csp_hashes.py');
  assert.ok(directives['connect-src'].includes('https:'), 'https LLM endpoints allowed');
  assert.ok(directives['connect-src'].includes('http://127.0.0.1:*'), 'loopback LLM servers allowed');
  assert.ok(!directives['connect-src'].includes('http:'), 'no plain http to remote hosts');
  // The policy is enforced: an inline script injected now is refused.
  const ran = await page.evaluate(() => {
    window.__injected = false;
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.head.appendChild(s);
    return window.__injected;
  });
  assert.equal(ran, false, 'an unhashed inline script must be blocked');
  await context.close();
});
