// The debrief's scores in headless Chromium: a short, scripted play of the ACS case through the
// UI earns exactly what the engine computes natively for the same inputs (documented below), an
// evidence link lands on its transcript row, an educator override changes the scores and
// survives a reload, and every export downloads a file that parses.
//
// Expected scores, from `bedside-cli play assets/cases/acs-inferior-stemi.json <inputs>
// --output summary` with the same four inputs (introduction + onset question, "12-lead ECG",
// "Aspirin 300 mg PO", end form "Inferior STEMI"): completion 6/15 = 40%, points 6/15 = 40%,
// 3 judge items not scored, no harm; PC 80% (4 of 5: he is on the monitor with a defibrillator
// from arrival and never went into VF, so `pc_monitoring` holds), ICS 25% (1 of 4).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, screenshot, startStaticServer, waitForApp } from './harness.mjs';

let server;
let chrome;

before(async () => {
  server = await startStaticServer();
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
});

async function waitSaved(page) {
  await page.locator('.save-state[data-save-state="saved"]').waitFor();
}

async function order(page, typed) {
  const input = page.locator('#order-input');
  await input.fill('');
  await input.pressSequentially(typed, { delay: 10 });
  await page.locator('#order-suggestions [role="option"]').first().waitFor();
  await input.press('Enter');
  await page.locator('#order-input[aria-expanded="false"]').waitFor();
  await waitSaved(page);
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid="${testid}"]`).click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

test('the debrief shows the scores the engine computes, links evidence, records overrides and exports', async () => {
  const { context, page, log } = await openPage(chrome.browser, server.url);
  await page.goto(server.url);
  await waitForApp(page);
  await page.locator('[data-case-id="acs-inferior-stemi"] button', { hasText: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').fill("Hello, I'm Dr Kaur, one of the emergency doctors. When did the pain start?");
  await page.locator('#speak-input').press('Enter');
  await waitSaved(page);
  await order(page, 'ecg');
  await order(page, 'aspirin 300 mg PO');
  await page.locator('#open-end-form').click();
  await page.locator('#end-diagnosis').fill('Inferior STEMI');
  await page.locator('#end-plan').fill('Primary PCI');
  await page.locator('#end-submit').click();
  await page.waitForURL(/\/debrief\/enc-/);
  await page.locator('#scores [data-testid="completion"]').waitFor();

  assert.equal(await page.locator('[data-testid="completion"]').innerText(), '40%');
  assert.equal(await page.locator('[data-testid="points"]').innerText(), '40%');
  const chart = await page.locator('.competency-chart').innerText();
  assert.match(chart, /80% · 80%/, 'PC row');
  assert.match(chart, /25% · 25%/, 'ICS row');
  const first = page.locator('.checklist .check-item').first();
  assert.equal(await first.getAttribute('data-item'), 'sbp_cath_lab', 'missed critical items come first');
  assert.match(await page.locator('[data-item="pc_ecg_10min"] .check-mark').innerText(), /Met/);
  assert.match(await page.locator('[data-item="ics_plain_explanation"] .check-mark').innerText(), /Not scored/);
  assert.match(await page.locator('[data-testid="judge-panel"]').innerText(), /3 item\(s\) need a judge/);
  await screenshot(page, 'debrief-scores');

  // The ECG's evidence link lands on the moment of the order: orders are not conversation rows,
  // so it is the last row before it (the patient's answer at 0:20; the ECG went in at 0:30).
  await page.locator('[data-item="pc_ecg_10min"] .evidence-link').first().click();
  const focused = await page.evaluate(() => ({ id: document.activeElement.id, text: document.activeElement.textContent }));
  assert.match(focused.id, /^entry-\d+$/);
  assert.match(focused.text, /0:20/);
  assert.match(focused.text, /forty minutes ago/);

  // An educator override counts at once and is saved with the encounter.
  await page.locator('[data-item="sbp_cath_lab"] .override button', { hasText: 'Mark met' }).click();
  await page.getByText('Override saved for sbp_cath_lab.').waitFor();
  assert.equal(await page.locator('[data-testid="completion"]').innerText(), '47%');
  assert.match(await page.locator('[data-item="sbp_cath_lab"] .check-by').innerText(), /override by educator/);
  await page.reload();
  await page.locator('#scores [data-testid="completion"]').waitFor();
  assert.equal(await page.locator('[data-testid="completion"]').innerText(), '47%', 'the override survives a reload');

  // Every export parses.
  const json = await download(page, 'export-json');
  assert.match(json.name, /^bedside-acs-inferior-stemi-enc-.*\.json$/);
  const record = JSON.parse(json.text);
  assert.equal(record.format, 'bedside.encounter');
  assert.equal(record.scores.overall.expected_met, 7);
  assert.equal(record.scorecard.overrides.length, 1);
  const medsp = JSON.parse((await download(page, 'export-medsp')).text);
  assert.equal(medsp._score_summary.completed_items, 7);
  assert.equal(medsp._score_summary.total_items, 15);
  const items = (await download(page, 'export-items-csv')).text.trim().split('\r\n');
  // 19 items from the case's rubric, and the gross-overdose safety item every case has (not
  // met here: a harm item, so it changes neither completion nor points).
  assert.equal(items.length, 1 + 19 + 1, 'header and one row per rubric item');
  assert.ok(items.some((row) => row.includes(',safety-gross-overdose,')), 'the safety item is exported');
  assert.match(items[0], /^encounter_id,case_id,item_id,competency/);
  const enc = (await download(page, 'export-encounter-csv')).text.trim().split('\r\n');
  assert.equal(enc.length, 2);
  await screenshot(page, 'debrief-after-override');

  // The history lists the encounter with its scores (the override included).
  await page.locator('nav a', { hasText: 'History' }).click();
  const row = page.locator('table.history tbody tr', { hasText: 'Crushing chest pain at the depot' }).first();
  await row.waitFor();
  assert.equal(await row.locator('.history-scores').innerText(), '47% (7/15 items) · points 47%');

  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.foreignRequests, []);
  await context.close();
});
