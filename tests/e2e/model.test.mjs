// The model roles in the browser against the REAL local SmolLM2 server (llama.cpp): the
// Settings page (per-field errors, test connection, where keys are kept across reloads), a
// model clinician playing a built-in case turn by turn (pause and resume, stop) with the
// patient voiced by the model, the debrief with the judge on demand, and every export and the
// stored records checked for the key. The tiny model is often nonsense: the tests assert on
// completion with recorded fallbacks, never on clinical quality.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { caseFile, openApp, openPage, screenshot, startScriptedServer, useApp, waitForApp } from './harness.mjs';

const KEY = 'sk-test-DO-NOT-LEAK-1234';
const LLAMA_CPP = '5'; // Preset::ALL index of "llama.cpp server (local)"
const SETTINGS_KEY = 'bedside.llm-settings.v1';

const app = useApp({ llm: { ctx: 8192 } });

function assertClean(log) {
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  assert.deepEqual(log.foreignRequests, [], 'no request leaves the app and the model server');
}

async function open() {
  const opened = await openApp(app, { path: '/settings', allowedOrigins: [app.llm.url] });
  await opened.page.locator('#clinician-provider').waitFor();
  return opened;
}

/** Fills one role's form with the local server (does not save). */
async function configure(page, role, { maxTokens = '96', remember = false } = {}) {
  await page.locator(`#${role}-provider`).selectOption(LLAMA_CPP);
  await page.locator(`#${role}-base_url`).fill(`${app.llm.url}/v1`);
  await page.locator(`#${role}-model`).fill(app.llm.model);
  await page.locator(`#${role}-key`).fill(KEY);
  await page.locator(`#${role}-max_tokens`).fill(maxTokens);
  await page.locator(`#${role}-temperature`).fill('0.3');
  await page.locator(`#${role}-seed`).fill('7');
  if (remember) await page.locator(`#${role}-remember`).check();
}

async function save(page) {
  await page.locator('#settings-save').click();
  await page.waitForFunction(
    () => document.querySelector('#settings-status')?.textContent === 'Settings saved.',
  );
}

async function localSettings(page) {
  return page.evaluate((k) => localStorage.getItem(k) ?? '', SETTINGS_KEY);
}

async function storedEncounter(page, id) {
  return page.evaluate(
    (id) =>
      new Promise((ok, fail) => {
        const r = indexedDB.open('bedside');
        r.onerror = () => fail(String(r.error));
        r.onsuccess = () => {
          const g = r.result.transaction('encounters').objectStore('encounters').get(id);
          g.onerror = () => fail(String(g.error));
          g.onsuccess = () => ok(g.result?.json ?? null);
        };
      }),
    id,
  );
}

test('settings: errors per field, test connection, and keys kept only when remembered', async () => {
  const { context, page, log } = await open();
  // Offline default: every role off, the key note says where keys live.
  for (const role of ['patient', 'clinician', 'judge']) {
    assert.equal(await page.locator(`#${role}-provider`).inputValue(), 'off');
  }
  const note = await page.locator('#key-note').innerText();
  assert.match(note, /memory/);
  assert.match(note, /local storage/);

  await configure(page, 'clinician');
  // Bad input: errors next to their fields, nothing saved.
  await page.locator('#clinician-max_tokens').fill('lots');
  await page.locator('#clinician-base_url').fill('http://example.com/v1');
  await page.locator('#settings-save').click();
  await page.locator('#clinician-max_tokens-error').waitFor();
  assert.match(await page.locator('#clinician-max_tokens-error').innerText(), /`lots` is not a whole number/);
  assert.match(await page.locator('#clinician-base_url-error').innerText(), /plain http only to this machine/);
  assert.equal(await page.locator('#clinician-max_tokens').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#settings-status').innerText(), /Not saved/);
  assert.equal(await localSettings(page), '', 'nothing saved');
  await screenshot(page, 'model-settings-errors');

  // Fixed: test connection reaches the real server.
  await page.locator('#clinician-max_tokens').fill('96');
  await page.locator('#clinician-base_url').fill(`${app.llm.url}/v1`);
  await page.locator('#clinician-test').click();
  await page.waitForFunction(() => document.querySelector('#clinician-test-result')?.dataset.ok !== '', null, {
    timeout: 60_000,
  });
  const result = await page.locator('#clinician-test-result').innerText();
  assert.equal(await page.locator('#clinician-test-result').getAttribute('data-ok'), 'true', result);
  assert.ok(result.includes('SmolLM2'), result);
  assert.ok(!result.includes(KEY), 'the report never shows the key');
  await screenshot(page, 'model-settings-tested');

  await save(page);
  let stored = await localSettings(page);
  assert.ok(stored.includes('SmolLM2'), stored);
  assert.ok(!stored.includes(KEY), 'the key is not stored without "remember"');

  // Reload: the settings come back, the key does not.
  await page.reload();
  await page.locator('#clinician-provider').waitFor();
  assert.equal(await page.locator('#clinician-provider').inputValue(), LLAMA_CPP);
  assert.equal(await page.locator('#clinician-model').inputValue(), 'SmolLM2');
  assert.equal(await page.locator('#clinician-key').inputValue(), '', 'a key not remembered is gone after a reload');

  // Remember ticked: the key survives a reload.
  await page.locator('#clinician-key').fill(KEY);
  await page.locator('#clinician-remember').check();
  await save(page);
  stored = await localSettings(page);
  assert.ok(stored.includes(KEY), 'remembered: the key is in browser storage');
  await page.reload();
  await page.locator('#clinician-provider').waitFor();
  assert.equal(await page.locator('#clinician-key').inputValue(), KEY);
  assert.equal(await page.locator('#clinician-remember').isChecked(), true);

  // Unticked again: the stored key is removed.
  await page.locator('#clinician-remember').uncheck();
  await save(page);
  assert.ok(!(await localSettings(page)).includes(KEY), 'unticking removes the stored key');
  assertClean(log);
  await context.close();
});

test('the model plays a built-in case to the end, is judged, and nothing leaks the key', async () => {
  const { context, page, log } = await open();
  // The patient stays scripted here (its voice is tested below): alternating prompts would
  // defeat llama.cpp's prompt cache and triple the run time.
  await configure(page, 'clinician');
  await configure(page, 'judge', { maxTokens: '160' });
  await save(page);

  // In-app navigation keeps the tab's memory (and its keys).
  await page.locator('nav a[href="/"]').click();
  const card = page.locator('.case-card[data-case-id="acs-inferior-stemi"]');
  await card.waitFor();
  const play = card.locator('[data-testid="model-play"]');
  assert.equal(await play.isDisabled(), false, 'enabled once a clinician model is configured');
  const started = Date.now();
  await play.click();
  await page.waitForURL(/\/encounter\/enc-.*\?play=1/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const roles = await page.locator('#roles-line').innerText();
  assert.ok(roles.includes('Clinician: model SmolLM2'), roles);
  assert.ok(roles.includes('Patient: scripted'), roles);
  assert.ok(roles.includes('Judge: rules + model SmolLM2'), roles);
  assert.equal(await page.locator('#speak-input').count(), 0, 'no speak box while the model plays');

  // Turn by turn: the first turn shows, then Pause holds the run and Resume continues it.
  await page.locator('#model-turns li').first().waitFor({ timeout: 120_000 });
  await screenshot(page, 'model-playing');
  const pauseButton = page.locator('#model-pause');
  if (!(await page.url().includes('/debrief/')) && !(await pauseButton.isDisabled())) {
    await pauseButton.click();
    await page.waitForFunction(
      () => ['paused', 'done'].includes(document.querySelector('#model-play-status')?.dataset.state),
      null,
      { timeout: 120_000 },
    );
    if ((await page.locator('#model-play-status').getAttribute('data-state')) === 'paused') {
      const turnsAtPause = await page.locator('#model-turns li').count();
      await new Promise((ok) => setTimeout(ok, 1500));
      assert.equal(await page.locator('#model-turns li').count(), turnsAtPause, 'no turn while paused');
      await screenshot(page, 'model-paused');
      await page.locator('#model-resume').click();
    }
  }

  // The run ends (turn limit 12 or earlier) and the debrief opens by itself.
  const failed = page.locator('.model-error');
  await Promise.race([
    page.waitForURL(/\/debrief\/enc-/, { timeout: 420_000 }),
    failed.first().waitFor({ timeout: 420_000 }).then(async () => {
      assert.fail(`the model run stopped with an error: ${await failed.first().innerText()}`);
    }),
  ]);
  const playSeconds = (Date.now() - started) / 1000;
  console.log(`model play: ${playSeconds.toFixed(1)} s`);
  await page.locator('#scores').waitFor();
  await screenshot(page, 'model-debrief');
  await page.goBack();
  const usage = await page.locator('#usage-line').innerText();
  assert.match(usage, /^\d+ model calls · \d+ tokens in, \d+ out · [\d.]+ s/, usage);
  console.log(`usage: ${usage}`);
  await page.goForward();
  await page.locator('#scores').waitFor();

  // The record: model config, every exchange kept (with fallbacks), no key anywhere.
  const raw = await storedEncounter(page, id);
  assert.ok(raw, 'the encounter is in IndexedDB');
  assert.ok(!raw.includes(KEY), 'the IndexedDB record has no key');
  const saved = JSON.parse(raw);
  assert.ok(saved.ended, 'the encounter ended');
  assert.equal(saved.config.turn_limit, 12);
  assert.deepEqual(saved.config.clinician, { kind: 'model', provider: 'OpenAI-compatible', model: 'SmolLM2' });
  const clinician = saved.exchanges.filter((e) => e.role === 'clinician');
  assert.ok(clinician.length >= 1, 'clinician exchanges are recorded');
  assert.ok(clinician.every((e) => e.completion || e.error), 'each has a reply or an error');
  assert.ok(clinician.some((e) => e.fallback), 'how each reply was used is recorded');
  const turns = saved.inputs.filter((i) => i.turn).length;
  assert.ok(turns >= 1 && turns <= 12, `turns within the limit: ${turns}`);
  assert.equal(saved.patient_voice, 'scripted');
  console.log(
    `turns ${turns}, clinician calls ${clinician.length} (fallbacks: ${clinician.map((e) => e.fallback).join(',')})`,
  );

  // The judge on demand: either the judge items are scored, or an error is shown (never a
  // silent "not met").
  const judgeButton = page.locator('[data-testid="judge-run"]');
  await judgeButton.click();
  await page
    .locator('[data-testid="judge-status"], [data-testid="judge-error"]')
    .first()
    .waitFor({ timeout: 180_000 });
  const judgedRaw = await storedEncounter(page, id);
  const judged = JSON.parse(judgedRaw);
  assert.ok(!judgedRaw.includes(KEY));
  assert.ok(judged.exchanges.some((e) => e.role === 'judge'), 'the judge call is recorded');
  if (await page.locator('[data-testid="judge-status"]').count()) {
    assert.ok(judged.judge, 'a judge run is saved');
    assert.equal(judged.judge.prompt_version, 'bedside-judge-1');
    assert.match(await page.locator('[data-testid="judge-panel"]').innerText(), /scored by/);
  } else {
    assert.equal(judged.judge, null, 'no judge run is saved when the judge failed');
    const err = await page.locator('[data-testid="judge-error"]').innerText();
    assert.ok(err.length > 20 && !err.includes(KEY), err);
    console.log(`judge error shown: ${err.slice(0, 200)}`);
  }
  await screenshot(page, 'model-debrief-judged');

  // Every export downloads, parses, and carries no key.
  for (const kind of ['export-json', 'export-medsp', 'export-items-csv', 'export-encounter-csv']) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`[data-testid="${kind}"]`).click(),
    ]);
    const text = readFileSync(await download.path(), 'utf8');
    assert.ok(!text.includes(KEY), `${kind} has no key`);
    if (kind.endsWith('csv')) {
      const rows = text.trim().split(/\r?\n/);
      assert.ok(rows.length >= 2, `${kind}: a header and rows`);
    } else {
      const json = JSON.parse(text);
      assert.equal(typeof json, 'object');
      if (kind === 'export-json') assert.ok(text.includes('SmolLM2'), 'the JSON export names the model');
    }
  }
  assert.ok(!(await localSettings(page)).includes(KEY), 'localStorage has no key without "remember"');
  const ls = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
  assert.ok(!ls.includes(KEY), 'no localStorage entry has the key');
  assert.ok(!page.url().includes(KEY));
  assertClean(log);
  await context.close();
});

test('Stop aborts the model clinician at once and the encounter stays open', async () => {
  const { context, page, log } = await open();
  await configure(page, 'clinician', { maxTokens: '200' });
  await save(page);
  await page.locator('nav a[href="/"]').click();
  const card = page.locator('.case-card[data-case-id="upper-gi-bleed"]');
  await card.waitFor();
  await card.locator('[data-testid="model-play"]').click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.waitForFunction(() => document.querySelector('#model-play-status')?.dataset.state === 'running');
  const t0 = Date.now();
  await page.locator('#model-stop').click();
  await page.waitForFunction(() => document.querySelector('#model-play-status')?.dataset.state === 'stopped', null, {
    timeout: 15_000,
  });
  console.log(`stopped after ${Date.now() - t0} ms`);
  assert.ok(page.url().includes('/encounter/'), 'still on the encounter');
  assert.equal(await page.locator('#model-resume').isDisabled(), false, 'it can be resumed');
  await screenshot(page, 'model-stopped');
  assertClean(log);
  await context.close();
});

test('the patient model voices a trainee\'s question, streamed, and the voiced line is kept', async () => {
  const { context, page, log } = await open();
  await configure(page, 'patient', { maxTokens: '40' });
  await save(page);
  await page.locator('nav a[href="/"]').click();
  const card = page.locator('.case-card[data-case-id="acs-inferior-stemi"]');
  await card.waitFor();
  assert.equal(await card.locator('[data-testid="model-play"]').isDisabled(), true, 'no clinician model: disabled');
  await card.locator('button.primary').click();
  await page.waitForURL(/\/encounter\/enc-/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const roles = await page.locator('#roles-line').innerText();
  assert.ok(roles.includes('Clinician: human') && roles.includes('Patient: model SmolLM2'), roles);
  // Record every text the streaming row shows, to see it grow piece by piece.
  await page.evaluate(() => {
    window.__streamed = [];
    new MutationObserver(() => {
      const t = document.querySelector('.transcript-row.streaming .row-text')?.textContent;
      if (t && window.__streamed.at(-1) !== t) window.__streamed.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.locator('#speak-input').fill('Where exactly is the pain?');
  await page.keyboard.press('Enter');
  // The line streams in (a row marked streaming), then the voiced text is stored.
  let raw = null;
  const deadline = Date.now() + 60_000;
  for (;;) {
    raw = await storedEncounter(page, id);
    if (raw && JSON.parse(raw).exchanges.some((e) => e.role === 'patient')) break;
    assert.ok(Date.now() < deadline, 'the patient call is recorded within a minute');
    await new Promise((ok) => setTimeout(ok, 300));
  }
  assert.ok(!raw.includes(KEY));
  const saved = JSON.parse(raw);
  const voiced = Object.entries(saved.voiced);
  const errors = saved.exchanges.filter((e) => e.role === 'patient' && e.error);
  if (voiced.length) {
    assert.ok(saved.patient_voice.includes('SmolLM2'), saved.patient_voice);
    const [seq, text] = voiced[0];
    await page.waitForFunction(
      ({ seq, text }) => document.querySelector(`#entry-${seq} .row-text`)?.textContent === text,
      { seq, text },
    );
    assert.equal(await page.locator('.transcript-row.streaming').count(), 0, 'streaming is over');
    const streamed = await page.evaluate(() => window.__streamed);
    console.log(`voiced: ${JSON.stringify(text)}; streamed in ${streamed.length} visible steps`);
    assert.ok(streamed.length >= 2, `the text appeared piece by piece: ${JSON.stringify(streamed)}`);
    assert.ok(text.startsWith(streamed[0].trim().slice(0, 3)), 'the stream was the start of the voiced line');
    assert.match(await page.locator('#usage-line').innerText(), /^1 model call · \d+ tokens in, \d+ out/);
    // HTML in a reply would be shown as text: the row holds no element but the text node.
    assert.equal(await page.locator(`#entry-${seq} .row-text *`).count(), 0);
  } else {
    // Not voiced: the error is shown and the scripted line stays.
    assert.ok(errors.length > 0, 'a line not voiced has a recorded error');
    await page.locator('.voice-error').waitFor();
  }
  await screenshot(page, 'model-patient-voiced');
  // The fact decisions stay the engine's: the scripted log entry is unchanged in the replay.
  assert.ok(saved.inputs.length === 1);
  assertClean(log);
  await context.close();
});

/**
 * A scripted OpenAI-compatible judge (a test server, not part of the product): answers every
 * chat with verdicts for `ids`, leaving out the first one when `mode` is "missing". It
 * records each request's Authorization header and body.
 */
async function startScriptedJudge(ids) {
  const state = { mode: 'missing', requests: [] };
  const server = await startScriptedServer((req, body, res, cors) => {
    state.requests.push({ url: req.url, authorization: req.headers.authorization ?? '', body });
    const answered = state.mode === 'missing' ? ids.slice(1) : ids;
    const verdicts = answered.map((id, i) => ({
      id,
      met: i % 2 === 0,
      evidence: i % 2 === 0 ? 'What brings you in today?' : '',
    }));
    res.writeHead(200, { ...cors, 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'scripted',
        object: 'chat.completion',
        model: 'scripted-judge',
        choices: [
          { index: 0, message: { role: 'assistant', content: JSON.stringify({ verdicts }) }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      }),
    );
  });
  return { state, ...server };
}

test('the judge: a reply missing an item is refused as a whole; a complete one scores the items', async () => {
  const caseJson = caseFile('acs-inferior-stemi');
  const ids = caseJson.rubric.filter((i) => !i.rule).map((i) => i.id);
  assert.ok(ids.length >= 2, 'the case has judge items');
  const judge = await startScriptedJudge(ids);
  const opened = await openPage(app.chrome.browser, app.server.url, { allowedOrigins: [app.llm.url, judge.url] });
  const { context, page, log } = opened;
  try {
    await page.goto(`${app.server.url}/settings`);
    await waitForApp(page);
    await page.locator('#judge-provider').selectOption(LLAMA_CPP);
    await page.locator('#judge-base_url').fill(`${judge.url}/v1`);
    await page.locator('#judge-model').fill('scripted-judge');
    await page.locator('#judge-key').fill(KEY);
    await save(page);
    await page.locator('nav a[href="/"]').click();
    const card = page.locator('.case-card[data-case-id="acs-inferior-stemi"]');
    await card.waitFor();
    await card.locator('button.primary').click();
    await page.waitForURL(/\/encounter\/enc-/);
    const id = new URL(page.url()).pathname.split('/').pop();
    await page.locator('#speak-input').fill('What brings you in today?');
    await page.keyboard.press('Enter');
    await page.locator('#open-end-form').click();
    await page.locator('#end-diagnosis').fill('Inferior STEMI');
    await page.locator('#end-submit').click();
    await page.waitForURL(/\/debrief\/enc-/);
    await page.locator('#scores').waitFor();
    const before = await page.locator('.score-summary').innerText();
    assert.match(before, new RegExp(`${ids.length} item\\(s\\) not scored`), before);

    // Missing an item (also after the one corrective re-ask): an error, nothing scored.
    await page.locator('[data-testid="judge-run"]').click();
    await page.locator('[data-testid="judge-error"]').waitFor({ timeout: 30_000 });
    const err = await page.locator('[data-testid="judge-error"]').innerText();
    assert.match(err, new RegExp(`items not answered: ${ids[0]}`), err);
    assert.ok(!err.includes(KEY));
    assert.equal(judge.state.requests.length, 2, 'one call and one corrective re-ask');
    assert.match(await page.locator('.score-summary').innerText(), /not scored/, 'still not scored, never "not met"');
    let saved = JSON.parse(await storedEncounter(page, id));
    assert.equal(saved.judge, null);
    assert.equal(saved.exchanges.filter((e) => e.role === 'judge').length, 2, 'both calls recorded');
    await screenshot(page, 'model-judge-refused');

    // A complete reply: the run is checked, saved, and the scores update.
    judge.state.mode = 'good';
    await page.locator('[data-testid="judge-run"]').click();
    await page.locator('[data-testid="judge-status"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('[data-testid="judge-status"]').innerText(), new RegExp(`Scored ${ids.length} judge item`));
    assert.match(await page.locator('[data-testid="judge-panel"]').innerText(), /scored by OpenAI-compatible \/ scripted-judge/);
    const after = await page.locator('.score-summary').innerText();
    assert.match(after, /every item scored/, after);
    assert.ok((await page.locator('.check-quote').allInnerTexts()).some((q) => q.includes('What brings you in today?')));
    const raw = await storedEncounter(page, id);
    assert.ok(!raw.includes(KEY));
    saved = JSON.parse(raw);
    assert.equal(saved.judge.verdicts.length, ids.length);
    assert.equal(saved.judge.model, 'OpenAI-compatible / scripted-judge');
    // The key went only to its endpoint, in the header, never in a body or URL.
    for (const r of judge.state.requests) {
      assert.equal(r.authorization, `Bearer ${KEY}`);
      assert.ok(!r.body.includes(KEY) && !r.url.includes(KEY));
    }
    // Reload: the stored judge run still scores the items.
    await page.reload();
    await page.locator('#scores').waitFor();
    assert.match(await page.locator('.score-summary').innerText(), /every item scored/);
    await screenshot(page, 'model-judge-scored');

    // Scoring again would replace the verdicts (a score change): not offered to the trainee,
    // who is told why in visible text; offered in educator mode.
    await page.locator('[data-testid="judge-locked"]').waitFor();
    assert.match(await page.locator('[data-testid="judge-locked"]').innerText(), /only in educator mode/);
    assert.equal(await page.locator('[data-testid="judge-run"]').count(), 0);
    await page.locator('[data-testid="educator-name"]').fill('Dr Okafor');
    await page.locator('[data-testid="educator-name"]').press('Enter');
    await page.locator('[data-testid="educator-footer"]').waitFor();
    assert.equal(await page.locator('[data-testid="judge-run"]').innerText(), 'Score again with judge');
    assert.equal(await page.locator('[data-testid="judge-locked"]').count(), 0);
    assertClean(log);
  } finally {
    await context.close();
    await judge.close();
  }
});
