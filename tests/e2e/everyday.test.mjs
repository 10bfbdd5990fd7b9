// Everyday flows in headless Chromium: Resume or New when a case has an open encounter, the
// focus after Start, Escape on the end form and dialogs, results marked new and flagged,
// History in two lists with select-and-delete, the phone layout (sticky clock and vitals, one
// switch between talking and ordering, no sideways scrolling), the monitor limited to the
// setting, settings messages that follow the fields, and links that are links.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axeViolations, caseFile, openPage, screenshot, useApp, waitForApp } from './harness.mjs';

const app = useApp();

function assertClean(log) {
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  assert.deepEqual(log.consoleErrors, [], 'no console errors');
  assert.deepEqual(log.foreignRequests, [], 'no request leaves the app origin');
}

async function library(page) {
  await page.goto(app.server.url);
  await waitForApp(page);
  await page.locator('.case-card').first().waitFor();
}

const startButton = (page, id) => page.locator(`[data-case-id="${id}"] button`, { hasText: 'Start' });
const activeId = (page) => page.evaluate(() => document.activeElement?.id ?? '');
const saved = (page) => page.locator('.save-state[data-save-state="saved"]').waitFor();

test('an open encounter is offered to resume; Escape closes forms; results are marked; history lists and deletes', async () => {
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  await library(page);

  // Start: the message box has the focus, the stage is named neutrally.
  await startButton(page, 'anaphylaxis-peanut').click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();
  await page.waitForFunction(() => document.activeElement?.id === 'speak-input');
  assert.equal(await page.locator('#phase').innerText(), 'Stage 1');
  const first = page.url();
  await page.keyboard.type('What happened today?');
  await page.keyboard.press('Enter');
  await page.locator('.transcript.live .row-clinician').waitFor();
  await saved(page);

  // A result that quotes the vital signs: new until the results are looked at, and flagged.
  await page.locator('#order-input').fill('vital signs');
  await page.locator('#order-input').press('Enter');
  const vitals = page.locator('#inbox-returned .inbox-row', { hasText: /vital signs/i });
  await vitals.waitFor();
  assert.equal(await vitals.locator('.badge-new').count(), 1, 'a new result is marked');
  assert.match(await page.locator('#results-new').innerText(), /^1 new$/);
  assert.match(await vitals.locator('.badge-flag').innerText(), /^Abnormal: CRITICAL/);
  assert.equal(await vitals.locator('.badge-flag.flag-critical').count(), 1, 'BP 82/46 is critical (NEWS2)');
  assert.deepEqual(await axeViolations(page), [], 'axe-core: encounter with a new, flagged result');
  await page.locator('#inbox-title').click();
  await page.waitForFunction(() => !document.querySelector('#inbox-returned .badge-new'));
  assert.equal(await page.locator('#results-new').count(), 0, 'seen: no longer new');
  await saved(page);

  // Start the same case again: Resume or New. Escape closes the question.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Case library' }).click();
  await page.locator('.case-card').first().waitFor();
  await startButton(page, 'anaphylaxis-peanut').click();
  const offer = page.locator('.resume-offer');
  await offer.waitFor();
  assert.match(await offer.innerText(), /unfinished encounter of this case/);
  assert.match(await offer.innerText(), /2 inputs/);
  await page.waitForFunction(() => document.activeElement?.id === 'resume-open');
  assert.deepEqual(await axeViolations(page), [], 'axe-core: library with the Resume-or-New question');
  await page.keyboard.press('Escape');
  await offer.waitFor({ state: 'detached' });
  await screenshot(page, 'everyday-library');

  await startButton(page, 'anaphylaxis-peanut').click();
  await page.locator('#resume-open').click();
  await page.waitForURL(first);
  assert.equal((await page.locator('.transcript.live .row-clinician .row-text').allInnerTexts())[0], 'What happened today?');
  assert.equal(await page.locator('#inbox-returned .badge-new').count(), 0, 'reopened: what was seen stays seen');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Case library' }).click();
  await startButton(page, 'anaphylaxis-peanut').click();
  await page.locator('#resume-new').click();
  await page.waitForURL((u) => /\/encounter\/enc-/.test(u.pathname) && u.href !== first);
  await page.locator('#speak-input').waitFor();

  // The end form: Escape closes it and gives the focus back to its button.
  await page.locator('#open-end-form').click();
  await page.waitForFunction(() => document.activeElement?.id === 'end-diagnosis');
  await page.keyboard.press('Escape');
  await page.locator('#end-form').waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.activeElement?.id === 'open-end-form');
  await page.keyboard.press('Enter');
  await page.locator('#end-diagnosis').fill('Anaphylaxis');
  await page.locator('#end-submit').click();
  await page.waitForURL(/\/debrief\//);

  // History: in progress apart from finished; no score before the end.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const open = page.locator('#history-in-progress tbody tr');
  const done = page.locator('#history-finished tbody tr');
  await open.first().waitFor();
  assert.equal(await open.count(), 1);
  assert.equal(await done.count(), 1);
  assert.ok(!(await page.locator('#history-in-progress thead').innerText()).includes('Scores'), 'no score column in progress');
  assert.equal(await page.locator('#history-in-progress .history-scores').count(), 0);
  assert.match(await done.locator('.history-scores').innerText(), /\d+%/);
  assert.equal(await page.locator('#delete-selected').isDisabled(), true, 'nothing selected yet');

  // Select both and delete them together; Escape first cancels the confirmation.
  await open.locator('.history-check').check();
  await done.locator('.history-check').check();
  await page.getByText('2 encounters selected.').waitFor();
  assert.deepEqual(await axeViolations(page), [], 'axe-core: history with both lists');
  await page.locator('#delete-selected').click();
  await page.getByRole('group', { name: 'Confirm deleting the selected encounters' }).getByRole('button', { name: 'Cancel' }).focus();
  await page.keyboard.press('Escape');
  await page.locator('#delete-selected').waitFor();
  assert.equal(await open.count(), 1, 'nothing deleted on Escape');
  await page.locator('#delete-selected').click();
  await page.locator('#delete-selected-confirm').click();
  await page.locator('.empty-state', { hasText: 'No encounters yet' }).waitFor();
  await screenshot(page, 'everyday-history-empty');
  assertClean(log);
  await context.close();
});

test('on a 390×844 phone the clock and vitals stay in view, one switch shows talking or ordering, nothing scrolls sideways', async () => {
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  await page.setViewportSize({ width: 390, height: 844 });
  await library(page);
  const bbn = caseFile('breaking-bad-news');
  await startButton(page, 'breaking-bad-news').click();
  await page.locator('#speak-input').waitFor();
  await page.waitForFunction(() => document.activeElement?.id === 'speak-input');
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok((await overflow()) <= 0, `no sideways scrolling on the encounter (${await overflow()} px)`);

  // The outpatient clinic has no GCS or pain monitor.
  const strip = page.locator('.vitals-strip');
  assert.ok(await strip.isVisible(), 'the vitals line shows on a phone');
  const shown = await strip.locator('[data-strip-vital]').evaluateAll((els) => els.map((e) => e.dataset.stripVital));
  assert.deepEqual(shown, ['hr', 'bp', 'rr', 'spo2', 'temp']);
  assert.match(await strip.locator('[data-strip-vital="hr"] .strip-value').innerText(), new RegExp(`^${bbn.phases[0].vitals.hr}$`));

  // The message box is within one screen of the top; so is the order box after the switch.
  const docTop = (sel) => page.evaluate((s) => document.querySelector(s).getBoundingClientRect().top + window.scrollY, sel);
  assert.ok((await docTop('#speak-input')) < 2 * 844, `message box at ${await docTop('#speak-input')} px`);
  assert.equal(await page.locator('#order-input').isVisible(), false, 'talking: the order box is put away');
  await page.locator('#mode-order').click();
  await page.locator('#order-input').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.activeElement?.id === 'order-input');
  assert.ok((await docTop('#order-input')) < 2 * 844, `order box at ${await docTop('#order-input')} px`);
  assert.equal(await page.locator('#speak-input').isVisible(), false);
  assert.equal(await page.locator('#mode-order').getAttribute('aria-pressed'), 'true');
  assert.deepEqual(await axeViolations(page), [], 'axe-core: phone encounter, ordering');
  await screenshot(page, 'everyday-phone-orders');

  // Scrolled to the bottom, the clock and the vitals are still on screen.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  for (const sel of ['#clock', '.vitals-strip', '#mode-talk']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `${sel} in view after scrolling: ${JSON.stringify(box)}`);
  }
  await page.locator('#mode-talk').click();
  await page.waitForFunction(() => document.activeElement?.id === 'speak-input');
  await screenshot(page, 'everyday-phone-talk');

  // History fits the phone without sideways scrolling.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await page.locator('#history-in-progress tbody tr').first().waitFor();
  assert.ok((await overflow()) <= 0, `no sideways scrolling on History (${await overflow()} px)`);
  assert.deepEqual(await axeViolations(page), [], 'axe-core: phone history');
  await screenshot(page, 'everyday-phone-history');
  assertClean(log);
  await context.close();
});

test('the disabled model button says why in visible text, and the authoring guide is a link', async () => {
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  await library(page);
  const why = page.locator('#model-play-why');
  assert.ok(await why.isVisible());
  assert.match(await why.innerText(), /clinician model/);
  const button = page.locator('[data-case-id="anaphylaxis-peanut"] [data-testid="model-play"]');
  assert.equal(await button.isDisabled(), true);
  assert.equal(await button.getAttribute('aria-describedby'), 'model-play-why');
  assert.equal(await why.getByRole('link', { name: 'Settings' }).getAttribute('href'), '/settings');

  const guide = page.getByRole('link', { name: 'case authoring guide' });
  const href = await guide.getAttribute('href');
  const res = await fetch(`${app.server.url}${href}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  assert.match(await res.text(), /^# Writing a Bedside case/);
  assertClean(log);
  await context.close();
});

test('settings: a message always matches the fields as they are now; an error is short, with details', async () => {
  const { context, page } = await openPage(app.chrome.browser, app.server.url);
  await page.goto(`${app.server.url}/settings`);
  await page.locator('#clinician-provider').waitFor();
  await page.locator('#clinician-provider').selectOption('5'); // llama.cpp server (local)
  await page.locator('#clinician-base_url').fill('http://127.0.0.1:9/v1'); // nothing listens there
  await page.locator('#clinician-model').fill('SmolLM2');
  await page.locator('#clinician-test').click();
  const result = page.locator('#clinician-test-result');
  await page.waitForFunction(() => document.querySelector('#clinician-test-result')?.dataset.ok === 'false', null, {
    timeout: 60_000,
  });
  const text = await result.innerText();
  const error = text.split('\n').at(-1);
  assert.match(error, /^Could not reach http:\/\/127\.0\.0\.1:9\/v1\./);
  assert.ok((error.match(/[.!?](\s|$)/g) ?? []).length <= 2, `at most two sentences: ${error}`);
  assert.ok(error.split(/\s+/).length <= 25, `short: ${error}`);
  const details = page.locator('#clinician-test-details');
  assert.equal(await details.locator('summary').innerText(), 'Details');
  assert.equal(await details.getAttribute('open'), null, 'closed until asked');
  await details.locator('summary').click();
  assert.match(await details.innerText(), /Access-Control-Allow-Origin/);
  assert.deepEqual(await axeViolations(page), [], 'axe-core: settings with an error and its details');
  await screenshot(page, 'everyday-settings-error');

  // Change a field: the report was about the old value, so it goes.
  await page.locator('#clinician-base_url').fill('not a url');
  await page.waitForFunction(() => document.querySelector('#clinician-test-result')?.textContent === '');
  assert.equal(await details.count(), 0);

  // Saving refuses the bad URL; fixing the field takes the refusal away.
  await page.locator('#settings-save').click();
  await page.waitForFunction(() => /Not saved/.test(document.querySelector('#settings-status')?.textContent));
  await page.locator('#clinician-base_url').fill('http://127.0.0.1:9/v1');
  await page.waitForFunction(() => document.querySelector('#settings-status')?.textContent === '');
  await page.locator('#settings-save').click();
  await page.waitForFunction(() => document.querySelector('#settings-status')?.textContent === 'Settings saved.');
  await page.locator('#clinician-model').fill('another-model');
  await page.waitForFunction(() => document.querySelector('#settings-status')?.textContent === '');
  await context.close();
});
