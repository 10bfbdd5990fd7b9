// Evaluation runs in the browser: a plan of 2 players × 3 cases × 2 repeats built in the
// Evaluate form, run against a scripted OpenAI-compatible server (request counts on the
// server's side) and against the REAL local SmolLM2 server. A reload in the middle of a run
// resumes it and no job is played twice; a failing endpoint's jobs are shown failed with
// their error, never as scores, and run again only on request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axeViolations, caseFile, openApp, openPage, screenshot, useApp, waitForApp } from './harness.mjs';
import { opensJob, startWard } from './ward.mjs';

const LLAMA_CPP = '5'; // Preset::ALL index of "llama.cpp server (local)"
const CASES = ['sepsis-pneumonia', 'anaphylaxis-peanut', 'paediatric-asthma'];
const app = useApp({ llm: { ctx: 4096 } });

/** Which case a request is about, by the start of its door note in the prompt. */
const doorNotes = Object.fromEntries(CASES.map((id) => [id, caseFile(id).door_note.trim().slice(0, 40)]));
const caseOf = (r) => CASES.find((id) => r.body.includes(doorNotes[id]));

/** The job a request belongs to: case, model and seed (the seed is Settings' 10 + repeat). */
const jobOf = (r) => `${caseOf(r)}|${r.model}|${r.seed}`;

async function configureClinician(page, url, model) {
  await page.goto(`${app.server.url}/settings`);
  await waitForApp(page);
  await page.locator('#clinician-provider').selectOption(LLAMA_CPP);
  await page.locator('#clinician-base_url').fill(url);
  await page.locator('#clinician-model').fill(model);
  await page.locator('#clinician-max_tokens').fill('96');
  await page.locator('#clinician-temperature').fill('0.3');
  await page.locator('#clinician-seed').fill('10');
  await page.locator('#settings-save').click();
  await page.waitForFunction(() => document.querySelector('#settings-status')?.textContent === 'Settings saved.');
}

/** Fills the Evaluate form: two players on the clinician provider, the three cases, 2 repeats. */
async function fillPlan(page, { name, second, turnLimit }) {
  await page.locator('nav a[href="/evaluate"]').click();
  await page.locator('#run-name').waitFor();
  await page.locator('#run-name').fill(name);
  for (const id of CASES) await page.locator(`#run-case-${id}`).check();
  await page.locator('#run-repeats').fill('2');
  await page.locator('#run-turn-limit').fill(String(turnLimit));
  await page.locator('#run-add-player').click();
  await page.locator('#player-0-label').fill('first');
  await page.locator('#player-1-label').fill('second');
  await page.locator('#player-1-model').fill(second);
  await page.waitForFunction(() => document.querySelector('#run-estimate')?.textContent.startsWith('12 jobs'));
}

/** A page on the app with the clinician provider set to the scripted server. */
async function openWithWard(ward) {
  const opened = await openPage(app.chrome.browser, app.server.url, { allowedOrigins: [ward.url] });
  await opened.page.goto(`${app.server.url}/`);
  await waitForApp(opened.page);
  await configureClinician(opened.page, `${ward.url}/v1`, 'ward');
  return opened;
}

async function progress(page) {
  return page.evaluate(() => ({
    line: document.querySelector('#run-progress-line')?.textContent ?? '',
    state: document.querySelector('#run-progress-line')?.dataset.state ?? '',
    done: [...document.querySelectorAll('.job-row[data-status="done"]')].map((e) => e.dataset.job),
    failed: [...document.querySelectorAll('.job-row[data-status="failed"]')].map((e) => e.dataset.job),
  }));
}

async function waitUntilOver(page, timeout) {
  await page.waitForFunction(
    () => ['done', 'idle'].includes(document.querySelector('#run-progress-line')?.dataset.state) &&
      !document.querySelector('.job-row[data-status="running"]') &&
      !document.querySelector('.job-row[data-status="to do"]'),
    null,
    { timeout },
  );
}

test('a run of 2 players × 3 cases × 2 repeats survives a reload and plays no job twice', async () => {
  const ward = await startWard();
  const { context, page, log } = await openWithWard(ward);
  try {
    await fillPlan(page, { name: 'reload run', second: 'ward-b', turnLimit: 2 });
    assert.deepEqual(await axeViolations(page), [], 'axe-core on the Evaluate form');
    assert.match(await page.locator('#run-estimate').textContent(), /^12 jobs · about \d+ model calls/);
    ward.state.delayMs = 150;
    await page.locator('#run-start').click();
    await page.waitForURL(/\/evaluate\/run-/);
    // Some jobs are done, others not yet: reload in the middle.
    await page.waitForFunction(() => document.querySelectorAll('.job-row[data-status="done"]').length >= 3, null, {
      timeout: 60_000,
    });
    const before = await progress(page);
    assert.ok(before.done.length < 12, `the reload comes in the middle of the run: ${before.line}`);
    await page.reload();
    await waitForApp(page);
    await waitUntilOver(page, 120_000);
    const after = await progress(page);
    assert.equal(after.done.length, 12, `every job done: ${after.line}`);
    assert.equal(after.failed.length, 0);
    assert.match(after.line, /12\/12 done/);
    // Server side: every job was opened once, except those in flight at the reload (at most
    // the concurrency, 2), which ran again from the start; none that was done ran again.
    const opened = {};
    for (const r of ward.state.requests.filter(opensJob)) opened[jobOf(r)] = (opened[jobOf(r)] ?? 0) + 1;
    assert.equal(Object.keys(opened).length, 12, `12 distinct jobs: ${JSON.stringify(opened)}`);
    const twice = Object.entries(opened).filter(([, n]) => n > 1);
    assert.ok(twice.length <= 2, `at most the 2 jobs in flight ran twice: ${JSON.stringify(twice)}`);
    assert.ok(twice.every(([, n]) => n === 2));
    // The jobs done before the reload: map "case--player--rN" to case|model|seed.
    const models = { first: 'ward', second: 'ward-b' };
    for (const id of before.done) {
      const [caseId, player, r] = id.split('--');
      const key = `${caseId}|${models[player]}|${10 + Number(r.slice(1))}`;
      assert.equal(opened[key], 1, `${id} was done before the reload and never ran again`);
    }
    // Each finished job is a saved encounter: it opens in the debrief.
    await page.locator('.job-row[data-status="done"] a').first().click();
    await page.locator('h1').filter({ hasText: /Debrief/ }).waitFor({ timeout: 30_000 });
    await page.goto(`${app.server.url}/history`);
    await waitForApp(page);
    const rows = await page.locator('.history-row, [data-encounter-id], li').count();
    assert.ok(rows >= 12, 'the history lists the run\'s encounters');
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.foreignRequests, []);
  } finally {
    await context.close();
    await ward.close();
  }
});

test('a failing endpoint: its jobs are shown failed, never scored, and retried only on request', async () => {
  const ward = await startWard();
  const { context, page, log } = await openWithWard(ward);
  try {
    // Start with no case: the error names the field, and goes once the field is fixed.
    await page.locator('nav a[href="/evaluate"]').click();
    await page.locator('#run-start').click();
    await page.locator('#run-errors').waitFor();
    assert.match(await page.locator('#run-errors').innerText(), /^cases: /m);
    await page.locator(`#run-case-${CASES[0]}`).check();
    await page.waitForFunction(() => !/^cases: /m.test(document.querySelector('#run-errors')?.innerText ?? ''));
    await fillPlan(page, { name: 'failing run', second: 'down', turnLimit: 1 });
    await page.locator('#run-start').click();
    await page.waitForURL(/\/evaluate\/run-/);
    await waitUntilOver(page, 120_000);
    const p = await progress(page);
    assert.equal(p.done.length, 6, p.line);
    assert.equal(p.failed.length, 6, p.line);
    assert.ok(p.failed.every((id) => id.includes('--second--')), 'only the failing player failed');
    const error = await page.locator('.job-row[data-status="failed"] .job-error').first().textContent();
    assert.match(error, /503|down/i, 'the failure says why');
    // Never a score: the failing player's row has no items scored and no completion.
    const row = page.locator('#run-tallies tr[data-player="second"] td');
    assert.equal(await row.nth(0).textContent(), '0', 'done');
    assert.equal(await row.nth(1).textContent(), '6', 'failed');
    assert.equal(await row.nth(2).textContent(), '— (0/0)', 'no completion, nothing scored');
    const scored = await page.locator('.job-row[data-status="failed"]').filter({ hasText: 'items' }).count();
    assert.equal(scored, 0, 'a failed job shows no items');
    assert.deepEqual(await axeViolations(page), [], 'axe-core on a run page');
    await screenshot(page, 'evaluate-run-failed-jobs');
    // Nothing runs again by itself; on request, only the failed jobs run.
    const openedBefore = ward.state.requests.filter(opensJob).length;
    ward.state.healed = true;
    await page.locator('#run-retry').click();
    await waitUntilOver(page, 120_000);
    const again = ward.state.requests.filter(opensJob).slice(openedBefore);
    assert.equal(again.length, 6, 'six jobs opened again');
    assert.ok(again.every((r) => r.model === 'down'), 'only the failed player\'s jobs');
    const p2 = await progress(page);
    assert.equal(p2.done.length, 12, p2.line);
    // The run's plan, downloaded, starts a new run of the same jobs from a plan file; a plan
    // naming a case the library lacks is refused with the place.
    const href = await page.locator('#run-plan-download').getAttribute('href');
    const planText = decodeURIComponent(href.slice(href.indexOf(',') + 1));
    const plan = JSON.parse(planText);
    assert.equal(plan.format, 'bedside.plan');
    assert.ok(!planText.includes('sk-'), 'no key in a downloaded plan');
    await page.locator('a[href="/evaluate"]').first().click();
    const broken = { ...plan, cases: [...plan.cases, 'no-such-case'] };
    await page.locator('#run-plan-file').setInputFiles({
      name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(broken)),
    });
    await page.locator('#run-plan-errors').waitFor();
    assert.match(await page.locator('#run-plan-errors').innerText(), /\$\.cases\[3\].*no-such-case/);
    await page.locator('#run-plan-file').setInputFiles({
      name: 'plan.json', mimeType: 'application/json', buffer: Buffer.from(planText),
    });
    await page.waitForURL(/\/evaluate\/run-/);
    await page.waitForFunction(() => /0\/12 done/.test(document.querySelector('#run-progress-line')?.textContent ?? ''));
    assert.deepEqual(log.pageErrors, []);
  } finally {
    await context.close();
    await ward.close();
  }
});

test('the same plan against the real SmolLM2 runs to the end with progress shown', async () => {
  const { context, page, log } = await openApp(app, { allowedOrigins: [app.llm.url] });
  try {
    await configureClinician(page, `${app.llm.url}/v1`, app.llm.model);
    await fillPlan(page, { name: 'SmolLM2 run', second: app.llm.model, turnLimit: 1 });
    await page.locator('#player-1-temperature').fill('0.9');
    await page.locator('#run-start').click();
    await page.waitForURL(/\/evaluate\/run-/);
    await page.waitForFunction(() => /\d+\/12 done/.test(document.querySelector('#run-progress-line')?.textContent ?? ''));
    await waitUntilOver(page, 600_000);
    const p = await progress(page);
    assert.equal(p.done.length + p.failed.length, 12, p.line);
    assert.equal(p.done.length, 12, `SmolLM2 answered every job: ${p.line}`);
    const tokens = await page.locator('#run-tallies tr[data-player="first"] td').nth(4).textContent();
    assert.ok(Number(tokens) > 0, 'tokens in are counted from the server\'s usage');
    await screenshot(page, 'evaluate-run-smollm2');
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.foreignRequests, []);
  } finally {
    await context.close();
  }
});
