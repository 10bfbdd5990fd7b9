// Orders that behave like a hospital's, in headless Chromium, through the visible UI only
// (typing, arrow keys and Enter, clicks), on the shipped cases:
// - a suggestion shows the catalog name, the form that will be placed (with what the catalog
//   filled in marked) and its time cost; the inbox records that form, and the debrief scores it;
// - the pharmacist queries a dose outside the usual range before it is placed (a gross overdose
//   is a harm in every case), and asks for the unit of a bare number it cannot read;
// - the nurse holds IV drugs and fluids until there is IV access, and gives them once it is in;
// - pending orders can be cancelled and running fluids stopped from the inbox;
// - a disposition order never places at once: it opens the end form with it prefilled.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, caseFile, openApp, screenshot, useApp } from './harness.mjs';

const app = useApp();

const catalog = JSON.parse(readFileSync(join(ROOT, 'assets', 'catalog.json'), 'utf8')).orders;
const entry = (id) => catalog.find((o) => o.id === id);
const rubricItem = (kase, id) => kase.rubric.find((r) => r.id === id);

/** "takes 1 min · immediate", "takes 1 min · result in 60 min", from the catalog entry. */
const timeCost = (o) =>
  `takes ${o.time_cost_min} min · ${o.turnaround_min === 0 ? 'immediate' : `result in ${o.turnaround_min} min`}`;

function assertClean(log) {
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  assert.deepEqual(log.consoleErrors, [], 'no console errors');
  assert.deepEqual(log.foreignRequests, [], 'no request leaves the app origin');
}

/** Opens the app and starts a built-in case. */
async function startCase(id) {
  const opened = await openApp(app);
  const { page } = opened;
  await page.locator(`[data-case-id="${id}"] button`, { hasText: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();
  return opened;
}

/** Texts of the conversation rows, in order. */
const transcript = (page) => page.locator('.transcript.live .row-text').allInnerTexts();

async function waitSaved(page) {
  await page.locator('.save-state[data-save-state="saved"]').waitFor();
}

/** Types into the order box like a trainee; returns the first suggestion once it shows. */
async function typeOrder(page, typed) {
  const input = page.locator('#order-input');
  await input.focus();
  await input.fill('');
  await input.pressSequentially(typed, { delay: 10 });
  const first = page.locator('#order-suggestions [role="option"]').first();
  await first.waitFor();
  assert.equal(await first.getAttribute('aria-selected'), 'true', 'the best match is highlighted');
  return first;
}

/** What a suggestion shows: name, form (or null) and detail. */
async function shown(option) {
  const form = option.locator('.suggestion-form');
  return {
    name: await option.locator('.suggestion-name').innerText(),
    form: (await form.count()) ? await form.innerText() : null,
    detail: await option.locator('.suggestion-detail').innerText(),
  };
}

/** Types an order, checks its first suggestion's name, and places it with Enter. */
async function placeByEnter(page, typed, name) {
  const first = await typeOrder(page, typed);
  assert.equal(await first.locator('.suggestion-name').innerText(), name);
  await page.locator('#order-input').press('Enter');
  await page.locator('#order-input[aria-expanded="false"]').waitFor();
}

/** Places IV access by search, and waits until it is in. */
async function placeIvAccess(page) {
  await placeByEnter(page, 'IV access', entry('peripheral_iv').name);
  await page.locator('#inbox-returned .inbox-row', { hasText: entry('peripheral_iv').name }).waitFor();
}

/** Ends the encounter through the end form and waits for the debrief's scores. */
async function endWith(page, diagnosis) {
  await page.locator('#open-end-form').click();
  await page.locator('#end-diagnosis:focus').waitFor();
  await page.keyboard.type(diagnosis);
  await page.locator('#end-submit').click();
  await page.waitForURL(/\/debrief\/enc-/);
  await page.locator('#scores [data-testid="completion"]').waitFor();
}

/** A debrief checklist item: its mark ("Met", "Missed", "Harm done"...) and text. */
async function item(page, id) {
  const li = page.locator(`.checklist .check-item[data-item="${id}"]`);
  return {
    mark: await li.locator('.check-mark').innerText(),
    text: await li.locator('.check-text').innerText(),
    why: await li.locator('.check-why').innerText(),
  };
}

test('a loading dose is placed in the form the suggestion shows, and the debrief scores it as given', async () => {
  const kase = caseFile('acs-inferior-stemi');
  const aspirinItem = rubricItem(kase, 'pc_aspirin');
  const p2y12Item = rubricItem(kase, 'mk_p2y12');
  const oral = aspirinItem.rule.any.map((r) => r.done).find((d) => d.route.includes('PO'));
  assert.ok(oral && oral.dose.min <= 300 && oral.dose.max >= 300, 'the rubric takes 300 mg aspirin by mouth');
  const { context, page, log } = await startCase('acs-inferior-stemi');

  // Aspirin 300 mg with no route typed: the catalog's default route (PO) is filled in and shown.
  const aspirin = entry('aspirin');
  assert.equal(aspirin.dose.route, 'PO');
  const first = await typeOrder(page, 'aspirin 300mg');
  const s = await shown(first);
  assert.equal(s.name, 'Aspirin');
  assert.equal(s.form, '300 mg PO (default route)');
  assert.equal(s.detail, `Medication · ${timeCost(aspirin)}`);
  await page.locator('#order-input').press('Enter');
  await page.locator('#order-input[aria-expanded="false"]').waitFor();
  const asaRow = page.locator('#inbox-returned .inbox-row', { hasText: 'Aspirin' });
  await asaRow.waitFor();
  assert.equal(await asaRow.locator('.inbox-dose').innerText(), '300 mg PO (default route)');
  assert.equal(await asaRow.locator('.inbox-note').count(), 0, '300 mg is inside the usual range: no query, no note');
  assert.match(await page.locator('.orders [role="status"]').innerText(), /^Placed: /);

  // Ticagrelor 180 with neither unit nor route: the usual unit (mg) and route (PO) are filled in.
  const ticagrelor = entry('ticagrelor');
  assert.deepEqual([ticagrelor.dose.unit, ticagrelor.dose.route], ['mg', 'PO']);
  const tica = await shown(await typeOrder(page, 'ticagrelor 180'));
  assert.equal(tica.name, 'Ticagrelor');
  assert.equal(tica.form, '180 mg PO (default route, usual unit)');
  await page.locator('#order-input').press('Enter');
  const ticaRow = page.locator('#inbox-returned .inbox-row', { hasText: 'Ticagrelor' });
  await ticaRow.waitFor();
  assert.equal(await ticaRow.locator('.inbox-dose').innerText(), '180 mg PO (default route, usual unit)');
  await waitSaved(page);

  await endWith(page, 'inferior STEMI');
  // The filled-in route counts: aspirin by mouth within 15 minutes is met, not missed.
  const asa = await item(page, 'pc_aspirin');
  assert.equal(asa.text, aspirinItem.text);
  assert.equal(asa.mark, 'Met', `the aspirin item: ${asa.why}`);
  // And the filled-in unit: ticagrelor 180 mg is the P2Y12 loading dose.
  const p2y12 = await item(page, 'mk_p2y12');
  assert.equal(p2y12.text, p2y12Item.text);
  assert.equal(p2y12.mark, 'Met', `the P2Y12 item: ${p2y12.why}`);
  const actions = await page.locator('.action-log').innerText();
  assert.ok(actions.includes('300 mg PO (default route)'), `the action log shows the form placed: ${actions}`);
  assert.equal(await page.locator('.checklist .check-item.mark-harm').count(), 0, 'no harm done');
  assertClean(log);
  await context.close();
});

test('a gross overdose is queried by the pharmacist: changing it places nothing, placing anyway is a harm', async () => {
  const { context, page, log } = await startCase('acs-inferior-stemi');
  // Access first, so the fentanyl is given when placed (not held by the nurse).
  await placeIvAccess(page);

  // 5 mg of fentanyl IV is 5000 micrograms: the usual IV dose is 25–100 micrograms (BNF).
  const fentanyl = entry('fentanyl');
  const ivLimit = fentanyl.limits.find((l) => l.route === 'IV');
  assert.deepEqual([ivLimit.unit, ivLimit.max], ['mcg', 100]);
  const first = await typeOrder(page, 'fentanyl 5 mg iv');
  const s = await shown(first);
  assert.equal(s.name, 'Fentanyl');
  assert.equal(s.form, '5 mg IV', 'both typed: nothing filled in');
  await page.locator('#order-input').press('Enter');
  const query = page.locator('.order-query[role="alertdialog"]');
  await query.waitFor();
  const message = await query.locator('#order-query-text').innerText();
  assert.match(message, /^Dangerous dose — /);
  assert.ok(message.includes('more than 10 times the usual maximum'), message);
  assert.ok(message.includes('= 5000 mcg'), `the dose is shown in the range's unit: ${message}`);
  assert.ok(message.includes(`usual ${ivLimit.min}–${ivLimit.max} mcg`), message);
  assert.ok(message.includes(ivLimit.source), `the pharmacist cites the range: ${message}`);
  assert.equal(await query.locator('#order-confirm').innerText(), 'Place anyway');
  assert.equal(await query.locator('#order-change').innerText(), 'Change the order');
  assert.equal(await page.locator('.inbox-row', { hasText: 'Fentanyl' }).count(), 0, 'nothing is placed while the pharmacist asks');
  await screenshot(page, 'orders-pharmacist-query');

  // Change the order: the query closes, the text comes back to edit, nothing is placed.
  const clock = await page.locator('#clock').innerText();
  await query.locator('#order-change').click();
  await query.waitFor({ state: 'detached' });
  assert.match(await page.locator('#order-input').inputValue(), /^Fentanyl 5 mg IV$/i);
  assert.equal(await page.locator('.inbox-row', { hasText: 'Fentanyl' }).count(), 0, 'nothing placed');
  assert.equal(await page.locator('#clock').innerText(), clock, 'no time spent');

  // Placed anyway: given as ordered, flagged in the inbox and in the conversation.
  await page.locator('#order-input').press('Enter');
  await query.waitFor();
  await query.locator('#order-confirm').click();
  await query.waitFor({ state: 'detached' });
  const row = page.locator('#inbox-returned .inbox-row', { hasText: 'Fentanyl' });
  await row.waitFor();
  assert.equal(await row.locator('.inbox-dose').innerText(), '5 mg IV');
  assert.match(await row.locator('.inbox-note').innerText(), /^pharmacist: more than 10 times the usual maximum/);
  assert.ok(
    (await transcript(page)).some((t) => t.startsWith('Pharmacist: a dangerous dose, given as ordered')),
    'the pharmacist notice is in the conversation',
  );
  await waitSaved(page);

  await endWith(page, 'inferior STEMI');
  const harm = await item(page, 'safety-gross-overdose');
  assert.equal(harm.mark, 'Harm done');
  assert.match(harm.text, /^Gives a dose more than 10 times/);
  assert.match(harm.why, /Fentanyl 5 mg IV/);
  assert.equal(await page.locator('.score-tile.score-bad .score-value').innerText(), '1', 'one harm');
  assertClean(log);
  await context.close();
});

test('a bare number the app cannot read as a dose asks for its unit and places nothing', async () => {
  const { context, page, log } = await startCase('acs-inferior-stemi');
  await placeIvAccess(page);
  // Morphine IV is dosed in mg or mg/kg: "4" alone is not a dose the ward can give.
  const first = await typeOrder(page, 'morphine 4');
  assert.equal((await shown(first)).name, 'Morphine');
  const clock = await page.locator('#clock').innerText();
  await page.locator('#order-input').press('Enter');
  const query = page.locator('.order-query[role="alertdialog"]');
  await query.waitFor();
  assert.match(await query.locator('#order-query-text').innerText(), /^What is the 4 in "[^"]*4"\?/);
  assert.equal(await query.locator('#order-confirm').count(), 0, 'it cannot be placed anyway');
  assert.equal(await page.locator('.inbox-row', { hasText: 'Morphine' }).count(), 0, 'nothing placed');
  assert.equal(await page.locator('#clock').innerText(), clock);
  await query.locator('#order-change').click();
  await query.waitFor({ state: 'detached' });
  // With its unit it is an ordinary dose, placed at once.
  await placeByEnter(page, 'morphine 4 mg iv', 'Morphine');
  const row = page.locator('#inbox-returned .inbox-row', { hasText: 'Morphine' });
  await row.waitFor();
  assert.equal(await row.locator('.inbox-dose').innerText(), '4 mg IV');
  assertClean(log);
  await context.close();
});

test('the nurse holds a fluid bolus until there is IV access, gives it once the line is in, and it can be stopped', async () => {
  const { context, page, log } = await startCase('sepsis-pneumonia');
  const bolus = entry('ns_bolus');

  const s = await shown(await typeOrder(page, 'normal saline 1000 mL IV'));
  assert.equal(s.name, bolus.name);
  assert.equal(s.form, '1000 mL IV');
  await page.locator('#order-input').press('Enter');
  await page.locator('#order-input[aria-expanded="false"]').waitFor();
  const held = `Nurse: there is no IV access yet — I'll hold the ${bolus.name} 1000 mL IV until a line is in.`;
  await page.locator('.transcript.live .row-text', { hasText: held }).waitFor();
  const pending = page.locator('#inbox-pending .inbox-row', { hasText: bolus.name });
  await pending.waitFor();
  assert.equal(await pending.locator('.inbox-note').innerText(), 'held by the nurse: no IV access yet');
  assert.equal(await pending.locator('.inbox-control').innerText(), 'Cancel', 'a held order can be cancelled');
  assert.equal(await page.locator('#inbox-returned .inbox-row', { hasText: bolus.name }).count(), 0, 'not given');
  await screenshot(page, 'orders-held-by-nurse');

  // Waiting does not give it: there is still no line.
  await page.locator('#wait-minutes').fill('2');
  await page.locator('#wait-minutes').press('Enter');
  await page.locator('.row-system', { hasText: 'You waited 2 minutes.' }).waitFor();
  assert.equal(await pending.locator('.inbox-note').innerText(), 'held by the nurse: no IV access yet');

  // IV access: the nurse gives what was held.
  await placeIvAccess(page);
  await page
    .locator('.transcript.live .row-text', { hasText: `Nurse: the line is in — giving the ${bolus.name} 1000 mL IV now.` })
    .waitFor();
  assert.equal(await page.locator('#inbox-pending .inbox-row', { hasText: bolus.name }).count(), 0, 'no longer held');
  const given = page.locator('#inbox-returned .inbox-row', { hasText: bolus.name });
  await given.waitFor();
  assert.match(await given.locator('.inbox-note').innerText(), /^given at \d+:\d\d once the line was in$/);
  // A running fluid has a Stop button.
  assert.equal(await given.locator('.inbox-control').innerText(), 'Stop');
  await given.locator('.inbox-control').click();
  await page.locator('.transcript.live .row-text', { hasText: `Stopped: ${bolus.name} 1000 mL IV.` }).waitFor();
  assert.match(await given.locator('.inbox-note').innerText(), /once the line was in; stopped at \d+:\d\d$/);
  assert.equal(await given.locator('.inbox-control').count(), 0, 'nothing more to stop');
  assertClean(log);
  await context.close();
});

test('a pending lab can be cancelled from the inbox before its result and never comes back', async () => {
  const { context, page, log } = await startCase('acs-inferior-stemi');
  const trop = entry('hs_troponin');
  const s = await shown(await typeOrder(page, 'troponin'));
  assert.equal(s.name, trop.name);
  assert.equal(s.form, null, 'a lab takes no dose or route');
  assert.equal(s.detail, `Laboratory · ${timeCost(trop)}`);
  await page.locator('#order-input').press('Enter');
  const pending = page.locator('#inbox-pending .inbox-row', { hasText: trop.name });
  await pending.waitFor();
  assert.match(await pending.locator('.inbox-status').innerText(), /^expected at \d+:\d\d \(in \d+ min\)$/);
  assert.equal(await pending.locator('.inbox-control').innerText(), 'Cancel');
  const clock = await page.locator('#clock').innerText();
  await pending.locator('.inbox-control').click();
  await page.locator('.transcript.live .row-text', { hasText: `Cancelled: ${trop.name}.` }).waitFor();
  // It leaves the pending list and shows as cancelled, at the time it was cancelled.
  const row = page.locator('#inbox-cancelled .inbox-row', { hasText: trop.name });
  await row.waitFor();
  assert.equal(await page.locator('#inbox-pending').count(), 0, 'nothing pending any more');
  assert.equal(await row.locator('.inbox-status').innerText(), `cancelled at ${clock}`);
  assert.equal(await row.locator('.inbox-control').count(), 0, 'a cancelled order has nothing left to cancel');
  await screenshot(page, 'orders-cancelled');

  // Past its turnaround, no result arrives.
  await page.locator('#wait-minutes').fill(String(trop.turnaround_min + 5));
  await page.locator('#wait-minutes').press('Enter');
  await page.locator('.row-system', { hasText: `You waited ${trop.turnaround_min + 5} minutes.` }).waitFor();
  assert.equal(await row.locator('.inbox-result').count(), 0, 'no result for a cancelled lab');
  assert.equal(await page.locator('#inbox-returned .inbox-row', { hasText: trop.name }).count(), 0);
  assert.equal(await row.locator('.inbox-status').innerText(), `cancelled at ${clock}`);
  assertClean(log);
  await context.close();
});

test('a disposition order opens the end form prefilled; Keep going closes it; submitting ends and scores', async () => {
  const kase = caseFile('acs-inferior-stemi');
  const transfer = entry('transfer_cath_lab');
  assert.equal(transfer.category, 'disposition');
  const { context, page, log } = await startCase('acs-inferior-stemi');
  await placeByEnter(page, 'ecg', entry('ecg_12_lead').name);
  await waitSaved(page);
  const clock = await page.locator('#clock').innerText();

  const s = await shown(await typeOrder(page, 'transfer to cath lab'));
  assert.equal(s.name, transfer.name);
  assert.equal(s.detail, `Disposition · ${timeCost(transfer)}`);
  await page.locator('#order-input').press('Enter');
  const form = page.locator('form.end-form');
  await form.waitFor();
  await page.locator('#end-diagnosis:focus').waitFor();
  assert.equal(await page.locator('#end-disposition').inputValue(), transfer.name, 'the disposition is prefilled');
  assert.equal(await page.locator('#open-end-form').getAttribute('aria-expanded'), 'true');
  // Nothing placed and nothing closed: the clock stands where it was and still runs.
  assert.equal(await page.locator('.inbox-row', { hasText: transfer.name }).count(), 0, 'not placed at once');
  assert.equal(await page.locator('#clock').innerText(), clock);
  assert.equal(await page.locator('.ended-banner').count(), 0);
  assert.equal(await page.locator('.closing-banner').count(), 0);
  assert.ok(await page.locator('#wait-minutes').isEnabled(), 'the encounter is still running');
  assert.equal(await page.locator('#order-input').inputValue(), '', 'the order box is cleared');

  // Keep going: the form closes, nothing is placed, and play carries on.
  await form.getByRole('button', { name: 'Keep going' }).click();
  await form.waitFor({ state: 'detached' });
  assert.equal(await page.locator('.inbox-row', { hasText: transfer.name }).count(), 0);
  await page.locator('#wait-minutes').fill('1');
  await page.locator('#wait-minutes').press('Enter');
  await page.locator('.row-system', { hasText: 'You waited 1 minute.' }).waitFor();
  assert.notEqual(await page.locator('#clock').innerText(), clock, 'the clock still runs');

  // Again, with the mouse this time, and submitted with a diagnosis.
  await typeOrder(page, 'transfer to cath lab');
  await page.locator('#order-suggestions [role="option"]').first().click();
  await form.waitFor();
  assert.equal(await page.locator('#end-disposition').inputValue(), transfer.name);
  await page.locator('#end-diagnosis').fill('inferior STEMI');
  await page.locator('#end-submit').click();
  await page.waitForURL(/\/debrief\/enc-/);
  await page.locator('#scores [data-testid="completion"]').waitFor();
  const diagnosis = await item(page, 'mk_diagnosis');
  assert.equal(diagnosis.text, rubricItem(kase, 'mk_diagnosis').text);
  assert.equal(diagnosis.mark, 'Met', diagnosis.why);
  assert.match(await page.locator('#end-reason').innerText(), /you ended the encounter/);
  const final = await page.locator('#final-form').innerText();
  assert.ok(final.includes('inferior STEMI') && final.includes(transfer.name), final);
  const placed = page.locator('.action-log tbody tr', { hasText: transfer.name });
  assert.equal(await placed.count(), 1, 'the disposition is placed once, by the end form');
  assertClean(log);
  await context.close();
});
