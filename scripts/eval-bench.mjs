// The browser runner's overhead, measured, not asserted: 100 encounters (10 built-in cases ×
// 10 repeats, turn limit 12) against an instant scripted server (tests/e2e/ward.mjs) at 1, 2,
// 4 and 8 jobs at once. Prints wall time against the server's own time, the time per model
// call spent outside the server (engine, prompts, fetch, saving each encounter to IndexedDB),
// the tab's JS heap and the wasm memory before and after. Run after
// `scripts/wasm trunk build --release`:
//   node scripts/eval-bench.mjs [concurrency...]
import { DIST, launchBrowser, startStaticServer, waitForApp } from '../tests/e2e/harness.mjs';
import { startWard } from '../tests/e2e/ward.mjs';
import { readdirSync } from 'node:fs';

const levels = process.argv.slice(2).map(Number).filter((n) => n > 0);
const CONCURRENCY = levels.length ? levels : [1, 2, 4, 8];
const CASES = readdirSync(`${DIST}/../assets/cases`)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .filter((id) => id !== 'suicide-risk-assessment')
  .slice(0, 10);

const server = await startStaticServer();
const ward = await startWard();
const { browser, close } = await launchBrowser();
const rows = [];
try {
  for (const c of CONCURRENCY) {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      addEventListener('TrunkApplicationStarted', (e) => (window.__wasm = e.detail.wasm));
    });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await page.goto(`${server.url}/`);
    await waitForApp(page);
    const runId = `run-bench-${c}`;
    const plan = {
      format: 'bedside.plan',
      format_version: 1,
      name: `bench at ${c}`,
      players: [{ label: 'ward', provider: 'open_ai', base_url: `${ward.url}/v1`, model: 'ward', temperature: 0 }],
      cases: CASES,
      repeats: 10,
      turn_limit: 12,
      concurrency: c,
    };
    const settings = {
      clinician: { kind: 'open_ai', base_url: `${ward.url}/v1`, model: 'ward', temperature: 0, max_tokens: 96, timeout_s: 60 },
    };
    await page.evaluate(
      ({ run, settings }) => {
        localStorage.setItem('bedside.eval-runs.v1', JSON.stringify([run]));
        localStorage.setItem('bedside.llm-settings.v1', JSON.stringify(settings));
      },
      { run: { id: runId, plan, case_ids: CASES, created_ms: Date.now(), failures: {} }, settings },
    );
    await page.reload();
    await waitForApp(page);
    const memory = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const js = (await cdp.send('Runtime.getHeapUsage')).usedSize;
      const wasm = await page.evaluate(() => window.__wasm?.memory?.buffer.byteLength ?? 0);
      return { js, wasm };
    };
    const before = await memory();
    const requestsBefore = ward.state.requests.length;
    const busyBefore = ward.state.busyMs;
    const t0 = Date.now();
    await page.goto(`${server.url}/evaluate/${runId}?start=1`);
    await page.waitForFunction(() => document.querySelector('#run-progress-line')?.dataset.state === 'done', null, {
      timeout: 3_600_000,
      polling: 250,
    });
    const wall = (Date.now() - t0) / 1000;
    const done = await page.locator('.job-row[data-status="done"]').count();
    const after = await memory();
    const calls = ward.state.requests.length - requestsBefore;
    const serverS = (ward.state.busyMs - busyBefore) / 1000;
    rows.push({ c, done, calls, wall, serverS, before, after });
    await context.close();
  }
} finally {
  await close();
  await ward.close();
  await server.close();
}
const mb = (b) => (b / 1048576).toFixed(1);
console.log('| jobs at once | encounters | calls | wall s | server s | outside the server per call ms | JS heap MB before → after | wasm memory MB before → after |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const outside = (r.wall * r.c - r.serverS) / r.calls * 1000;
  console.log(
    `| ${r.c} | ${r.done} | ${r.calls} | ${r.wall.toFixed(1)} | ${r.serverS.toFixed(2)} | ${outside.toFixed(1)} | ${mb(r.before.js)} → ${mb(r.after.js)} | ${mb(r.before.wasm)} → ${mb(r.after.wasm)} |`,
  );
}
