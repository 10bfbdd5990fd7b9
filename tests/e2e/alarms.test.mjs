// The vitals monitor's alarms in headless Chromium: out-of-range tiles carry a level class and
// a visible text label, and a vital crossing into a critical range raises one alarm notice.
// Played on acs-inferior-stemi: a nitrate in right-ventricular infarction drops the pressure
// to 74/42 (NEWS2: systolic 90 or less scores 3, critical); a fluid bolus brings it back to 98
// (91–100 scores 2, low but not critical). The patient arrives without a line: IV access goes
// in first, as it would in resus (the nurse holds IV fluids until there is access).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { caseFile, openApp, screenshot, useApp } from './harness.mjs';

const app = useApp();

const ALARM = 'Monitor alarm: systolic BP 74 mmHg (critically low).';

/** Texts of the conversation rows, in order. */
const transcript = (page) => page.locator('.transcript.live .row-text').allInnerTexts();

/** The monitor alarms in the conversation. */
async function alarms(page) {
  return (await transcript(page)).filter((t) => t.startsWith('Monitor alarm'));
}

/** A tile's class list, value and visible alarm label ('' when it shows none). */
async function tile(page, key) {
  const li = page.locator(`[data-vital="${key}"]`);
  const label = li.locator('.vital-alarm');
  return {
    classes: (await li.getAttribute('class')).split(/\s+/),
    value: await li.locator('.vital-value').innerText(),
    label: (await label.count()) ? await label.innerText() : '',
  };
}

async function order(page, text) {
  await page.locator('#order-input').fill(text);
  await page.locator('#order-free-text').click();
}

async function wait(page, minutes) {
  const before = await page.locator('#clock').innerText();
  await page.locator('#wait-minutes').fill(String(minutes));
  await page.locator('#wait-minutes').press('Enter');
  await page.waitForFunction((t) => document.querySelector('#clock').textContent !== t, before);
}

test('a nitrate drops the pressure: the BP tile turns critical with its label, and the monitor alarms once', async () => {
  const kase = caseFile('acs-inferior-stemi');
  const arrival = kase.phases[0].vitals;
  const rv = kase.phases.find((p) => p.id === 'rv_hypotension');
  const rescue = kase.events.find((e) => e.id === 'fluid_rescue').then.find((t) => t.vitals).vitals;
  assert.equal(rv.vitals.sbp, 74, 'the case still drops the systolic to 74');

  const { context, page, log } = await openApp(app);
  await page.locator('[data-case-id="acs-inferior-stemi"] button', { hasText: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();

  // Arrival, a 58-year-old: BP 104/66 is low on NEWS2 (101–110 scores 1), nothing critical.
  let bp = await tile(page, 'bp');
  assert.match(bp.value, new RegExp(`^${arrival.sbp}/${arrival.dbp}`));
  assert.equal(bp.label, 'low');
  assert.ok(bp.classes.includes('level-low') && bp.classes.includes('level-abnormal'), bp.classes.join(' '));
  assert.equal(await page.locator('.vital.level-critical').count(), 0, 'no critical tile at arrival');
  const temp = await tile(page, 'temp');
  assert.equal(temp.label, '', '36.6 °C is normal and shows no label');
  assert.ok(temp.classes.includes('level-normal'));
  assert.deepEqual(await alarms(page), []);

  // A cannula first: without IV access the saline bolus below would be held by the nurse.
  await order(page, 'IV access');
  await page.locator('#inbox-returned .inbox-row', { hasText: 'Peripheral IV access' }).waitFor();
  assert.match((await tile(page, 'bp')).value, new RegExp(`^${arrival.sbp}/${arrival.dbp}`), 'still the arrival pressure');

  // The nitrate: right-ventricular hypotension, a few minutes after it is given.
  await order(page, 'nitroglycerin 0.4 mg SL');
  await wait(page, 3);
  await page.waitForFunction((status) => document.querySelector('#patient-status').textContent === status, rv.status);
  bp = await tile(page, 'bp');
  assert.match(bp.value, new RegExp(`^${rv.vitals.sbp}/${rv.vitals.dbp}`));
  assert.equal(bp.label, 'CRITICAL low');
  assert.ok(bp.classes.includes('level-critical') && bp.classes.includes('level-critical-low'), bp.classes.join(' '));
  // HR 48 (41–50 scores 1), RR 22 (21–24 scores 2): labelled, not critical.
  assert.deepEqual(
    [(await tile(page, 'hr')).label, (await tile(page, 'rr')).label],
    ['low', 'high'],
  );
  // Colour comes with the label: the critical tile is painted differently from a normal one.
  const background = (key) =>
    page.locator(`[data-vital="${key}"]`).evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(await background('bp'), await background('temp'));
  // One alarm notice, in the conversation and in the banner.
  assert.deepEqual(await alarms(page), [ALARM]);
  const row = page.locator('.transcript.live .transcript-row', { hasText: ALARM });
  assert.match(await row.getAttribute('class'), /row-notice/);
  await page.locator('.notice-banner .notice-item', { hasText: ALARM }).waitFor();
  await screenshot(page, 'alarms-critical-bp');

  // Still critical a few minutes later: no repeat.
  await wait(page, 2);
  assert.deepEqual(await alarms(page), [ALARM]);

  // Fluids through the cannula placed above: five minutes after the bolus the pressure
  // recovers to 98 (low, not critical).
  await order(page, 'normal saline 1000 mL IV');
  await wait(page, 6);
  await page.waitForFunction(
    (sbp) => document.querySelector('[data-vital="bp"] .vital-value').textContent.startsWith(`${sbp}/`),
    rescue.sbp,
  );
  bp = await tile(page, 'bp');
  assert.equal(bp.label, 'low');
  assert.ok(!bp.classes.includes('level-critical'), bp.classes.join(' '));
  assert.equal(await page.locator('.vital.level-critical').count(), 0);
  assert.deepEqual(await alarms(page), [ALARM], 'recovering raises no alarm');
  await screenshot(page, 'alarms-recovered');

  assert.deepEqual(log.pageErrors, [], 'no page errors');
  assert.deepEqual(log.consoleErrors, [], 'no console errors');
  assert.deepEqual(log.foreignRequests, [], 'no request leaves the app origin');
  await context.close();
});
