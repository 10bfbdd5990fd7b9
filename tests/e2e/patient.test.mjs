// The scripted patient answers what a trainee says, end to end in headless Chromium: a
// bad-news conversation (greeting, warning shot, the news, empathy) and a request to examine
// (consent, and once the hint that examinations are placed from the Orders panel). What the
// patient should say is read from the case file's own reactions, never from the app's output.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { caseFile, openPage, screenshot, useApp, waitForApp } from './harness.mjs';

const app = useApp();

const reaction = (c, pred) => {
  const r = c.reactions.find(pred);
  assert.ok(r, 'the case scripts this reaction');
  return r;
};

async function start(page, id) {
  await page.goto(app.server.url);
  await waitForApp(page);
  await page.locator(`[data-case-id="${id}"] button`, { hasText: 'Start' }).click();
  await page.waitForURL(/\/encounter\/enc-/);
  await page.locator('#speak-input').waitFor();
}

/// Says `text` and returns every line of the conversation that came after it.
async function say(page, text) {
  const rows = page.locator('.transcript.live li');
  const before = await rows.count();
  await page.locator('#speak-input').fill(text);
  await page.locator('#speak-input').press('Enter');
  await page.waitForFunction(
    (n) => document.querySelectorAll('.transcript.live li').length > n + 1,
    before,
  );
  // Let the turn's lines all arrive.
  await page.waitForTimeout(150);
  const all = await rows.evaluateAll((els) =>
    els.map((el) => ({ cls: el.className, text: el.querySelector('.row-text')?.textContent ?? el.textContent })),
  );
  return all.slice(before).filter((r) => !r.cls.includes('row-clinician'));
}

const spoken = (lines) => lines.filter((l) => /row-(patient|actor)/.test(l.cls)).map((l) => l.text.trim());

test('a bad-news conversation: the patient answers the greeting, reacts to the news and to empathy', async () => {
  const c = caseFile('breaking-bad-news');
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  await start(page, 'breaking-bad-news');

  // A greeting with a question is answered by the question, not with "Okay.".
  const hello = spoken(await say(page, "Hello, I'm Dr Kaur, one of the doctors in the clinic. How have you been since the scan?"));
  assert.ok(hello.length >= 1, 'someone answers');
  assert.ok(hello.every((t) => t !== 'Okay.'), `answered: ${JSON.stringify(hello)}`);

  // A warning shot, then the news: the stage changes to the disclosure and the patient reacts
  // as the case scripts it for news given with a warning.
  await say(page, "Ruth, I'm afraid the scan has shown something serious.");
  const news = await say(
    page,
    "The scan shows a growth in the pancreas, and I'm sorry to say it looks like a cancer that has spread to the liver.",
  );
  const disclosure = reaction(c, (r) => r.kind === 'bad_news' && r.phase === 'disclosure');
  const heard = spoken(news).join(' ');
  assert.ok(heard.includes(disclosure.line), `the disclosure reaction: ${heard}`);
  assert.ok(heard.includes(disclosure.questions[0]), `and her question: ${heard}`);
  assert.ok(!spoken(news).includes('Okay.'));

  // Empathy: answered as the case scripts it (its empathy reaction, or the line of an event
  // that responds to acknowledging her emotion), never with a fact from her history.
  const sorry = spoken(await say(page, "I'm so sorry. This is a huge shock. Take your time."));
  const empathy = reaction(c, (r) => r.kind === 'empathy');
  const scripted = [empathy.line];
  const strings = (v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
  for (const e of c.events) {
    if (JSON.stringify(e.when).includes('take your time')) scripted.push(...strings(e.then).filter((t) => t.length > 20));
  }
  assert.ok(sorry.length >= 1 && sorry.some((t) => scripted.some((s) => t.includes(s))), `empathy answered as scripted: ${JSON.stringify(sorry)}`);
  const history = c.facts.filter((f) => f.category === 'hpi').map((f) => f.answer);
  assert.ok(sorry.every((t) => !history.includes(t)), 'no presenting history in reply to empathy');

  await screenshot(page, 'patient-bad-news');
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  await context.close();
});

test('a request to examine: consent, and the hint to use the Orders panel only once', async () => {
  const c = caseFile('acs-inferior-stemi');
  const { context, page, log } = await openPage(app.chrome.browser, app.server.url);
  await start(page, 'acs-inferior-stemi');
  const consent = reaction(c, (r) => r.kind === 'examination');

  const first = await say(page, "I'm going to listen to your heart now, is that ok?");
  assert.ok(spoken(first).join(' ').includes(consent.line), `consents: ${JSON.stringify(first)}`);
  const hints = (lines) => lines.filter((l) => l.text.includes('Orders panel')).length;
  assert.equal(hints(first), 1, 'the hint that examinations are ordered comes once');

  const second = await say(page, 'Can I have a feel of your tummy?');
  assert.ok(spoken(second).join(' ').includes(consent.line), `consents again: ${JSON.stringify(second)}`);
  assert.equal(hints(second), 0, 'not twice');

  // The examination itself is placed from the orders and its findings come back as a result.
  await page.locator('#order-input').fill('examine heart');
  await page.locator('#order-input').press('Enter');
  await page.locator('#inbox-pending .inbox-row, #inbox-returned .inbox-row').first().waitFor();
  assert.deepEqual(log.pageErrors, [], 'no page errors');
  await context.close();
});
