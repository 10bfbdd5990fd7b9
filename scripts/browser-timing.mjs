// Browser timing: how long the release build takes to show the app in headless Chromium,
// measured, not asserted. Serves dist/ on loopback, loads the page N times in fresh contexts
// and prints the median and range of: first contentful paint, the app mounted (its header in
// the DOM), and the case library's first card (when the page has cards), plus the bytes
// transferred for the wasm. Run after `scripts/wasm trunk build --release`:
//   node scripts/browser-timing.mjs [runs]
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, launchBrowser, startStaticServer } from '../tests/e2e/harness.mjs';

const runs = Number(process.argv[2] ?? 7);
const server = await startStaticServer();
const { browser, close } = await launchBrowser();
const samples = { fcp: [], mounted: [], firstCard: [] };
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Records when the app's header and first case card enter the DOM (before any page script).
    await context.addInitScript(() => {
      window.__bedsideTiming = { mounted: null, firstCard: null };
      const seen = () => {
        const t = window.__bedsideTiming;
        if (t.mounted === null && document.querySelector('header.app-header')) {
          t.mounted = performance.now();
        }
        if (t.firstCard === null && document.querySelector('[data-testid="case-card"], .case-card')) {
          t.firstCard = performance.now();
        }
      };
      new MutationObserver(seen).observe(document, { childList: true, subtree: true });
    });
    const page = await context.newPage();
    await page.goto(server.url + '/');
    await page.waitForSelector('header.app-header', { timeout: 30_000 });
    const t = await page.evaluate(async () => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      for (let k = 0; k < 50 && window.__bedsideTiming.firstCard === null; k++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const { mounted, firstCard } = window.__bedsideTiming;
      return { fcp: paint ? paint.startTime : null, mounted, firstCard, start: nav ? nav.startTime : 0 };
    });
    if (t.fcp !== null) samples.fcp.push(t.fcp);
    if (t.mounted !== null) samples.mounted.push(t.mounted);
    if (t.firstCard !== null) samples.firstCard.push(t.firstCard);
    await context.close();
  }
} finally {
  await close();
  await server.close();
}

const fmt = (xs) => {
  if (xs.length === 0) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  return `median ${median.toFixed(0)} ms (min ${s[0].toFixed(0)}, max ${s[s.length - 1].toFixed(0)})`;
};
const wasm = readdirSync(DIST).find((f) => f.endsWith('.wasm'));
console.log(`browser timing over ${runs} cold loads (headless Chromium, loopback, no cache):`);
console.log(`  first contentful paint: ${fmt(samples.fcp)}`);
console.log(`  app mounted (header):   ${fmt(samples.mounted)}`);
console.log(`  first case card:        ${fmt(samples.firstCard)}`);
if (wasm) console.log(`  wasm: ${wasm} ${statSync(join(DIST, wasm)).size} bytes`);
