// The trainee app in headless Chromium: the case library (search, filters, import with every
// validation error), a built-in case played to the end through the UI with the keyboard, the
// debrief, the history, and a reload mid-encounter that resumes with nothing lost.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, caseFile, openApp, openPage, screenshot, useApp, waitForApp } from './harness.mjs';

const app = useApp();

const fixture = (path) => join(ROOT, 'tests', 'fixtures', path);

function assertClean(log) {
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  assert.deepEqual(log.consoleErrors, [], 'no console errors (a CSP violation would show here)');
  assert.deepEqual(log.foreignRequests, [], 'no request leaves the app origin');
}

async function openLibrary() {
  const opened = await openApp(app);
  await opened.page.locator('.case-card').first().waitFor();
  return opened;
}

/** Texts of the conversation rows, in order. */
const transcript = (page) => page.locator('.transcript.live .row-text').allInnerTexts();

/** Waits until the encounter has been written to IndexedDB. */
async function waitSaved(page) {
  await page.locator('.save-state[data-save-state="saved"]').waitFor();
}

/** Types an order, checks the first suggestion (name, and the form it places if given), and
 * places it with Enter. */
async function orderBySearch(page, typed, expectFirst, expectForm) {
  const input = page.locator('#order-input');
  await input.focus();
  await input.fill('');
  await input.pressSequentially(typed, { delay: 15 });
  const first = page.locator('#order-suggestions [role="option"]').first();
  await assert.doesNotReject(first.waitFor());
  assert.match(await first.locator('.suggestion-name').innerText(), expectFirst);
  if (expectForm) assert.equal(await first.locator('.suggestion-form').innerText(), expectForm);
  assert.equal(await first.getAttribute('aria-selected'), 'true', 'the best match is highlighted');
  await input.press('Enter');
  await page.locator('#order-input[aria-expanded="false"]').waitFor();
}

test('the library lists every built-in case, and search and filters narrow it', async () => {
  const { context, page, log } = await openLibrary();
  const files = readdirSync(join(ROOT, 'assets', 'cases')).filter((f) => f.endsWith('.json'));
  assert.equal(await page.locator('.case-card').count(), files.length);
  const acs = caseFile('acs-inferior-stemi').meta;
  const card = page.locator('[data-case-id="acs-inferior-stemi"]');
  const text = await card.innerText();
  for (const value of [acs.title, acs.specialty, acs.setting, 'Intermediate', `about ${acs.estimated_minutes} min`]) {
    assert.ok(text.includes(value), `the card shows ${value}: ${text}`);
  }
  await page.locator('#case-search').fill('chest pain');
  await page.waitForFunction(() => document.querySelectorAll('.case-card').length === 1);
  assert.equal(await page.locator('.case-card').getAttribute('data-case-id'), 'acs-inferior-stemi');
  await page.locator('#case-search').fill('');
  await page.locator('#filter-difficulty').selectOption('introductory');
  await page.waitForFunction(() => document.querySelectorAll('.case-card').length === 1);
  assert.equal(await page.locator('.case-card').getAttribute('data-case-id'), 'anaphylaxis-peanut');
  await page.locator('#filter-difficulty').selectOption('');
  await page.locator('#filter-specialty').selectOption('Oncology');
  await page.waitForFunction(() => document.querySelectorAll('.case-card').length === 1);
  assert.equal(await page.locator('.case-card').getAttribute('data-case-id'), 'breaking-bad-news');
  await page.locator('#filter-specialty').selectOption('Cardiology');
  await page.locator('#filter-difficulty').selectOption('advanced');
  await page.getByText('No case matches').waitFor();
  assert.match(await page.locator('.result-count').innerText(), new RegExp(`^0 of ${files.length} cases`));
  await screenshot(page, 'trainee-library-no-match');
  assertClean(log);
  await context.close();
});

test('a trainee plays a built-in case to the end with the keyboard and reads the debrief', async () => {
  const { context, page, log } = await openLibrary();
  const kase = caseFile('anaphylaxis-peanut');
  await screenshot(page, 'trainee-library');

  // Start with the keyboard.
  await page.locator('[data-case-id="anaphylaxis-peanut"] button', { hasText: 'Start' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();
  assert.equal(await page.locator('h1').innerText(), kase.meta.title);
  assert.equal(await page.locator('.door-note-text').innerText(), kase.door_note);
  assert.equal(await page.locator('#clock').innerText(), '0:00');
  assert.equal((await transcript(page))[0], kase.patient.opening_line);
  const hr = page.locator('[data-vital="hr"] .vital-value');
  assert.match(await hr.innerText(), new RegExp(`^${kase.phases[0].vitals.hr}`));

  // Talk: Enter sends, the patient answers.
  const rowsBefore = (await transcript(page)).length;
  await page.locator('#speak-input').fill('Hello, I am one of the doctors. What happened today?');
  await page.locator('#speak-input').press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('.transcript.live .transcript-row').length > n + 1, rowsBefore);
  assert.equal(await page.locator('#speak-input').inputValue(), '', 'the box is cleared after sending');
  const you = page.locator('.transcript.live .row-clinician .row-text').last();
  assert.equal(await you.innerText(), 'Hello, I am one of the doctors. What happened today?');
  assert.ok(
    (await page.locator('.transcript.live .row-clinician ~ .row-patient').count()) > 0,
    'the patient answers after the clinician speaks',
  );

  // Order by search with the keyboard: abbreviations, arrows, Enter; dose and route kept.
  await orderBySearch(page, 'cbc', /^Complete blood count$/);
  const pending = page.locator('#inbox-pending .inbox-row', { hasText: 'Complete blood count' });
  await pending.waitFor();
  assert.match(await pending.locator('.inbox-status').innerText(), /^expected at 45:\d\d \(in \d+ min\)$/);

  const input = page.locator('#order-input');
  await input.pressSequentially('epi 0.5 mg im', { delay: 15 });
  const options = page.locator('#order-suggestions [role="option"]');
  await options.first().waitFor();
  await input.press('ArrowDown');
  assert.equal(await options.nth(1).getAttribute('aria-selected'), 'true', 'ArrowDown moves the highlight');
  assert.equal(await input.getAttribute('aria-activedescendant'), 'suggestion-1');
  await input.press('ArrowUp');
  assert.equal(await options.first().getAttribute('aria-selected'), 'true', 'ArrowUp moves it back');
  // The suggestion shows the catalog name, and the form it will be placed with.
  assert.equal(await options.first().locator('.suggestion-name').innerText(), 'Epinephrine IM (anaphylaxis)');
  assert.equal(await options.first().locator('.suggestion-form').innerText(), '0.5 mg IM');
  await screenshot(page, 'trainee-order-suggestions');
  await input.press('Enter');
  const epi = page.locator('#inbox-returned .inbox-row', { hasText: 'Epinephrine IM' });
  await epi.waitFor();
  assert.equal(await epi.locator('.inbox-dose').innerText(), '0.5 mg IM');
  assert.match(await epi.locator('.inbox-status').innerText(), /^back at \d+:\d\d$/);

  // A free-text order with dose and route, placed exactly as typed.
  await input.fill('salbutamol 5 mg neb');
  await page.locator('#order-free-text').click();
  const neb = page.locator('#inbox-returned .inbox-row', { hasText: 'Albuterol nebulizer' });
  await neb.waitFor();
  assert.equal(await neb.locator('.inbox-dose').innerText(), '5 mg NEB');
  // Something the catalog does not know is shown as not understood.
  await input.fill('flibbertigibbet');
  await input.press('Enter');
  await page.locator('#inbox-unsupported .inbox-row', { hasText: 'flibbertigibbet' }).waitFor();

  // Wait: the epinephrine works (event notice, new stage, new vitals).
  await page.locator('#wait-minutes').fill('6');
  await page.locator('#wait-minutes').press('Enter');
  const responding = kase.phases.find((p) => p.id === 'responding');
  await page.locator('.notice-banner', { hasText: 'Five minutes after the epinephrine' }).waitFor();
  // Stages are named neutrally during the encounter; the new state is described.
  assert.equal(await page.locator('#phase').innerText(), 'Stage 2');
  assert.equal(await page.locator('#patient-status').innerText(), responding.status);
  assert.match(await hr.innerText(), new RegExp(`^${responding.vitals.hr}`));
  const points = (await page.locator('[data-vital="hr"] polyline').getAttribute('points')).split(' ');
  assert.ok(points.length >= 4, `the heart-rate trend steps down: ${points}`);
  assert.ok(
    Number(points.at(-1).split(',')[1]) > Number(points[0].split(',')[1]),
    'a falling heart rate draws a line that goes down',
  );
  assert.ok((await transcript(page)).some((t) => t.startsWith('Five minutes after the epinephrine')));
  await screenshot(page, 'trainee-after-epinephrine');

  // Wait for the blood count to come back.
  await page.locator('#wait-minutes').fill('40');
  await page.locator('#wait-minutes').press('Enter');
  const cbcBack = page.locator('#inbox-returned .inbox-row', { hasText: 'Complete blood count' });
  await cbcBack.waitFor();
  assert.match(await cbcBack.locator('.inbox-status').innerText(), /^back at 45:\d\d$/);
  assert.ok((await cbcBack.locator('.inbox-result').innerText()).length > 10, 'the result text is shown');
  assert.equal(await page.locator('#inbox-pending').count(), 0, 'nothing pending any more');
  const clock = await page.locator('#clock').innerText();
  assert.ok(Number(clock.split(':')[0]) >= 46, `the clock moved on: ${clock}`);

  // Done with this stage moves to the next one.
  const next = kase.phases.find((p) => p.id === responding.next);
  await page.locator('#stage-done').click();
  await page.waitForFunction(() => document.querySelector('#phase').textContent === 'Stage 3');
  assert.equal(await page.locator('#patient-status').innerText(), next.status);
  await waitSaved(page);

  // End the encounter with a diagnosis.
  await page.locator('#open-end-form').click();
  await page.locator('#end-diagnosis:focus').waitFor();
  await page.keyboard.type('Anaphylaxis to peanut');
  await page.locator('#end-differential').fill('Angioedema\nAcute severe asthma');
  await page.locator('#end-plan').fill('IM epinephrine given; observe for biphasic reaction; epinephrine auto-injector and allergy referral.');
  await page.locator('#end-disposition').selectOption('Observation unit');
  await screenshot(page, 'trainee-end-form');
  await page.locator('#end-submit').click();

  // The debrief.
  await page.waitForURL(/\/debrief\/enc-/);
  await page.locator('#end-reason').waitFor();
  assert.match(await page.locator('h1').innerText(), /^Debrief: /);
  assert.match(await page.locator('#end-reason').innerText(), /you ended the encounter/);
  const form = await page.locator('#final-form').innerText();
  for (const v of ['Anaphylaxis to peanut', 'Angioedema; Acute severe asthma', 'biphasic', 'Observation unit']) {
    assert.ok(form.includes(v), `the final form shows ${v}: ${form}`);
  }
  assert.equal(await page.locator('#scores').count(), 1, 'a place for the scores');
  const debriefTranscript = await page.locator('.debrief .transcript').innerText();
  assert.ok(debriefTranscript.includes('What happened today?'));
  assert.ok(debriefTranscript.includes('Five minutes after the epinephrine'));
  const actionLog = await page.locator('.action-log').innerText();
  for (const v of ['Complete blood count', 'Epinephrine IM (anaphylaxis) 0.5 mg IM', 'salbutamol 5 mg neb', 'flibbertigibbet', 'unsupported', 'Observation unit']) {
    assert.ok(actionLog.includes(v), `the action log shows ${v}`);
  }
  await screenshot(page, 'trainee-debrief');

  // The history lists it as ended, played by a human, and reopens the debrief.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const row = page.locator('table.history tbody tr', { hasText: kase.meta.title });
  await row.waitFor();
  const rowText = await row.innerText();
  assert.match(rowText, /Human/);
  assert.match(rowText, /Ended: you ended the encounter/);
  // The date in the browser's own locale and time zone ("Nov 24, 2026, 9:58 PM" in en-US).
  assert.match(rowText, /([A-Z][a-z]{2} \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2} \d{4})/);
  assert.doesNotMatch(rowText, /UTC/);
  await screenshot(page, 'trainee-history');
  await row.getByRole('link', { name: /^Debrief/ }).click();
  await page.waitForURL(/\/debrief\/enc-/);
  await page.locator('#final-form').waitFor();
  // The Encounter page no longer reopens a finished encounter.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Encounter' }).click();
  await page.getByText('No encounter is open').waitFor();
  assertClean(log);
  await context.close();
});

test('a reload mid-encounter resumes with nothing lost, and history deletes with confirmation', async () => {
  const { context, page, log } = await openLibrary();
  await page.locator('[data-case-id="acs-inferior-stemi"] button', { hasText: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  const url = page.url();
  await page.locator('#speak-input').fill('When did the pain start?');
  await page.locator('#speak-input').press('Enter');
  await page.locator('.row-clinician').first().waitFor();
  await orderBySearch(page, 'trop', /^High-sensitivity troponin$/);
  await orderBySearch(page, 'asa 324 mg po', /^Aspirin$/, '324 mg PO');
  await page.locator('#wait-minutes').fill('3');
  await page.locator('#wait-minutes').press('Enter');
  await page.locator('.row-system', { hasText: 'You waited 3 minutes.' }).waitFor();
  await waitSaved(page);
  const snapshot = async () => ({
    transcript: await transcript(page),
    pending: await page.locator('#inbox-pending').innerText(),
    returned: await page.locator('#inbox-returned').innerText(),
    clock: await page.locator('#clock').innerText(),
    phase: await page.locator('#phase').innerText(),
    vitals: await page.locator('.vitals-grid').innerText(),
  });
  const before = await snapshot();
  assert.match(before.pending, /High-sensitivity troponin/);
  assert.match(before.returned, /Aspirin/);

  await page.reload();
  await waitForApp(page);
  await page.locator('#speak-input').waitFor();
  assert.equal(page.url(), url);
  assert.deepEqual(await snapshot(), before, 'transcript, orders, clock, stage and vitals all come back');
  await screenshot(page, 'trainee-resumed');

  // It carries on from there, and the Encounter link reopens it.
  await page.locator('#speak-input').fill('Does the pain go anywhere?');
  await page.locator('#speak-input').press('Enter');
  await page.waitForFunction(
    (n) => document.querySelectorAll('.transcript.live .transcript-row').length > n,
    before.transcript.length,
  );
  await waitSaved(page);
  const after = await transcript(page);
  await page.goto(app.server.url);
  await waitForApp(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Encounter' }).click();
  await page.waitForURL(url);
  await page.locator('#speak-input').waitFor();
  assert.deepEqual(await transcript(page), after);

  // History: in progress, resumable, and deleted only after confirming.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const row = page.locator('table.history tbody tr', { hasText: 'Crushing chest pain at the depot' });
  await row.waitFor();
  assert.match(await row.innerText(), /In progress/);
  assert.equal(await row.getByRole('link', { name: /^Resume/ }).getAttribute('href'), new URL(url).pathname);
  await row.getByRole('button', { name: /^Delete/ }).click();
  await row.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await row.count(), 1, 'cancel keeps it');
  await row.getByRole('button', { name: /^Delete/ }).focus();
  await page.keyboard.press('Enter');
  await row.getByRole('button', { name: 'Cancel' }).waitFor();
  assert.equal(
    await page.evaluate(() => document.activeElement?.textContent?.trim()),
    'Cancel',
    'keyboard focus lands on Cancel when asked to confirm',
  );
  await screenshot(page, 'trainee-history-confirm-delete');
  await row.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByText('No encounters yet').waitFor();
  await page.reload();
  await waitForApp(page);
  await page.getByText('No encounters yet').waitFor();
  await page.goto(url);
  await waitForApp(page);
  await page.getByText('There is no saved encounter').waitFor();
  assertClean(log);
  await context.close();
});

test('importing shows every error of a broken file; a valid case joins the library and survives reload', async () => {
  const { context, page, log } = await openLibrary();
  const builtIns = await page.locator('.case-card').count();

  // File picker: a file with three errors shows all three, each with path, message and hint.
  await page.locator('#case-file').setInputFiles(fixture('broken/missing-fields.json'));
  const errors = page.locator('.import-error');
  await errors.waitFor();
  assert.equal(await errors.locator('.diagnostics-heading').innerText(), 'missing-fields.json: 3 errors');
  const items = errors.locator('.diagnostic');
  assert.equal(await items.count(), 3);
  const paths = await errors.locator('.diagnostic-path').allInnerTexts();
  assert.deepEqual([...paths].sort(), ['$.door_note', '$.meta', '$.phases[0].vitals.hr']);
  for (let i = 0; i < 3; i++) {
    assert.ok((await items.nth(i).locator('.diagnostic-message').innerText()).length > 0);
    assert.ok((await items.nth(i).locator('.diagnostic-hint').innerText()).length > 0, 'every error has a hint');
  }
  assert.equal(await page.locator('.case-card').count(), builtIns, 'nothing was added');
  await screenshot(page, 'trainee-import-errors');

  // Drag and drop: a broken file with several reference errors, and a valid case, together.
  const drop = async (files) => {
    const dataTransfer = await page.evaluateHandle((files) => {
      const dt = new DataTransfer();
      for (const [name, text] of files) dt.items.add(new File([text], name, { type: 'application/json' }));
      return dt;
    }, files);
    await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer });
  };
  await drop([
    ['bad-references.json', readFileSync(fixture('broken/bad-references.json'), 'utf8')],
    ['minimal-case.json', readFileSync(fixture('minimal-case.json'), 'utf8')],
  ]);
  await page.locator('.import-results .ok', { hasText: 'Minimal test case' }).waitFor();
  const refErrors = page.locator('.import-error', { hasText: 'bad-references.json' });
  const n = await refErrors.locator('.diagnostic').count();
  assert.ok(n >= 2, `every reference error is listed (${n})`);
  assert.match(await refErrors.locator('.diagnostics-heading').innerText(), new RegExp(`^bad-references.json: ${n} errors$`));
  const card = page.locator('[data-case-id="minimal-chest-pain"]');
  await card.waitFor();
  assert.match(await card.innerText(), /Imported/);
  assert.equal(await page.locator('.case-card').count(), builtIns + 1);
  await screenshot(page, 'trainee-import-dropped');

  // It survives a reload, can be played, and can be deleted (with confirmation).
  await page.reload();
  await waitForApp(page);
  await card.waitFor();
  assert.equal(await page.locator('.case-card').count(), builtIns + 1);
  await card.getByRole('button', { name: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();
  assert.equal(await page.locator('h1').innerText(), 'Minimal test case');
  await page.goto(app.server.url);
  await waitForApp(page);
  await card.getByRole('button', { name: /^Delete/ }).click();
  await card.getByRole('button', { name: 'Yes, delete' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('.case-card').length === n, builtIns);
  await page.reload();
  await waitForApp(page);
  await page.locator('.case-card').first().waitFor();
  assert.equal(await page.locator('.case-card').count(), builtIns, 'the deletion is kept');
  assertClean(log);
  await context.close();
});

test('the encounter screen fits a tablet in portrait', async () => {
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.goto(app.server.url);
  await waitForApp(page);
  await page.locator('[data-case-id="dka-young-adult"] button', { hasText: 'Start' }).click();
  await page.locator('#speak-input').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
  await screenshot(page, 'trainee-tablet-encounter');
  assertClean(log);
  await context.close();
});
