// The debrief's scores in headless Chromium: a short, scripted play of the ACS case through the
// UI earns exactly what the engine computes natively for the same inputs (documented below), an
// evidence link lands on its transcript row, the explanations are clinical sentences (catalog
// names, clock times, the question a missed fact needed; no internal id), the legend names the
// six competencies, overrides exist only in an educator mode entered with a name (recorded
// with each override, shown to the trainee and in History), and every export parses.
//
// Expected scores, from `bedside-cli play assets/cases/acs-inferior-stemi.json <inputs>
// --output summary` with the same four inputs (introduction + onset question, "12-lead ECG",
// "Aspirin 300 mg PO", end form "Inferior STEMI"): completion 6/15 = 40%, points 6/15 = 40%,
// 3 judge items not scored, no harm; PC 80% (4 of 5: he is on the monitor with a defibrillator
// from arrival and never went into VF, so `pc_monitoring` holds), ICS 25% (1 of 4).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, openApp, screenshot, useApp } from './harness.mjs';

const app = useApp();

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
  const { context, page, log } = await openApp(app);
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

  // Clinical sentences, built by the engine: catalog names, doses as placed, clock times.
  assert.match(await page.locator('[data-item="pc_aspirin"] .check-why').innerText(), /^Aspirin 300 mg PO given at \d+:\d\d \(due by 15:00\)/);
  assert.match(
    await page.locator('[data-item="sbp_cath_lab"] .check-why').innerText(),
    /^Cath lab activation \(interventional cardiology\) not requested \(due by 20:00\)/,
  );
  assert.match(await page.locator('[data-item="mk_nitrate_screen"] .check-why').innerText(), /^Not asked: Have you taken sildenafil/);
  assert.match(await page.locator('[data-item="pc_aspirin"] .check-reference').innerText(), /ESC 2023/);
  const checklist = await page.locator('.checklist').innerText();
  assert.doesNotMatch(checklist, /\b[a-z0-9]+_[a-z0-9_]+\b/, 'no snake_case id in the checklist');
  assert.doesNotMatch(checklist, /`|\bturn \d|\bphase \w|\bfact \w/, 'no rule vocabulary');
  const facts = await page.locator('.facts').innerText();
  assert.match(facts, /Not asked\. Have you taken sildenafil/, 'a missed fact shows the question to ask');
  assert.doesNotMatch(facts, /never taken Viagra/i, 'not the answer');
  const legend = await page.locator('[data-testid="competency-legend"]').innerText();
  for (const name of ['Patient care', 'Medical knowledge', 'Systems-based practice', 'Interpersonal and communication skills', 'Practice-based learning and improvement', 'Professionalism']) {
    assert.ok(legend.includes(name), name);
  }
  assert.match(await page.locator('[data-testid="score-explained"]').innerText(), /Completion counts .* points weigh/);

  // The expert pathway beside the trainee's orders.
  const pathway = page.locator('[data-testid="expert-pathway"]');
  assert.match(await pathway.locator('tr', { hasText: 'Cath lab activation' }).innerText(), /missing/);
  assert.match(await pathway.locator('tr', { hasText: '12-lead ECG' }).innerText(), /^12-lead ECG\s+0:\d\d 12-lead ECG\s+0:\d\d 12-lead ECG\s+on time$/);
  assert.match(await pathway.locator('tr', { hasText: 'Aspirin' }).innerText(), /Aspirin 324 mg PO[\s\S]*Aspirin 300 mg PO[\s\S]*early/);
  await pathway.scrollIntoViewIfNeeded();
  await screenshot(page, 'debrief-expert-pathway');

  // The ECG's evidence link lands on the moment of the order: orders are not conversation rows,
  // so it is the last row before it (the patient's answer at 0:20; the ECG went in at 0:30).
  await page.locator('[data-item="pc_ecg_10min"] .evidence-link').first().click();
  const focused = await page.evaluate(() => ({ id: document.activeElement.id, text: document.activeElement.textContent }));
  assert.match(focused.id, /^entry-\d+$/);
  assert.match(focused.text, /0:20/);
  assert.match(focused.text, /forty minutes ago/);

  // The trainee's view changes no score: no override controls until educator mode.
  assert.equal(await page.locator('.checklist .override').count(), 0, 'no override buttons for the trainee');
  await page.locator('.educator-enter button[type="submit"]').click();
  await page.locator('.educator-enter [role="alert"]').waitFor();
  assert.match(await page.locator('.educator-enter [role="alert"]').innerText(), /Enter your name/);
  assert.equal(await page.locator('.checklist .override').count(), 0);
  await page.locator('[data-testid="educator-name"]').fill('Dr Okafor');
  await page.locator('[data-testid="educator-name"]').press('Enter');
  await page.locator('[data-testid="educator-footer"]').waitFor();
  assert.match(await page.locator('[data-testid="educator-footer"]').innerText(), /recorded as made by Dr Okafor\./);

  // An educator override counts at once and is saved with the encounter, with the name.
  await page.locator('[data-item="sbp_cath_lab"] .override button', { hasText: 'Mark met' }).click();
  await page.getByText('Override by Dr Okafor saved.').waitFor();
  assert.equal(await page.locator('[data-testid="completion"]').innerText(), '47%');
  assert.match(await page.locator('[data-item="sbp_cath_lab"] .check-by').innerText(), /override by Dr Okafor/);
  await screenshot(page, 'debrief-educator');
  await page.reload();
  await page.locator('#scores [data-testid="completion"]').waitFor();
  assert.equal(await page.locator('[data-testid="completion"]').innerText(), '47%', 'the override survives a reload');
  await page.locator('[data-testid="educator-footer"]').waitFor();

  // Back to the trainee's view: the override shows, with who made it, and cannot be changed.
  await page.locator('[data-testid="educator-footer"] button', { hasText: 'Leave educator mode' }).click();
  await page.locator('.educator-enter').waitFor();
  assert.equal(await page.locator('.checklist .override').count(), 0);
  assert.equal(await page.locator('[data-testid="override-note"]').innerText(), 'Overridden by Dr Okafor (1 item)');
  assert.match(await page.locator('[data-item="sbp_cath_lab"] .check-by').innerText(), /override by Dr Okafor/);

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
  // Every item of the case's rubric, and the gross-overdose safety item every case has (not
  // met here: a harm item, so it changes neither completion nor points).
  const rubric = JSON.parse(readFileSync(join(ROOT, 'assets', 'cases', 'acs-inferior-stemi.json'), 'utf8')).rubric;
  assert.equal(items.length, 1 + rubric.length + 1, 'header and one row per rubric item');
  assert.ok(items.some((row) => row.includes(',safety-gross-overdose,')), 'the safety item is exported');
  assert.match(items[0], /^encounter_id,case_id,item_id,competency/);
  const enc = (await download(page, 'export-encounter-csv')).text.trim().split('\r\n');
  assert.equal(enc.length, 2);
  await screenshot(page, 'debrief-after-override');

  // The history lists the encounter with its scores (the override included).
  await page.locator('nav a', { hasText: 'History' }).click();
  const row = page.locator('table.history tbody tr', { hasText: 'Crushing chest pain at the depot' }).first();
  await row.waitFor();
  assert.equal(
    await row.locator('.history-scores').innerText(),
    '47% (7/15 items) · points 47% · Overridden by Dr Okafor (1 item)',
    'History marks an overridden score',
  );

  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.foreignRequests, []);
  await context.close();
});
