// The local SmolLM2 server answers a chat completion fetched from the app's page: proves the
// test model runs, that it sends CORS headers, and that the page's CSP lets it through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openApp, useApp } from './harness.mjs';

const app = useApp({ llm: {} });

test('the local model answers a chat completion fetched from the page origin (CORS)', async () => {
  const { context, page, log } = await openApp(app, { allowedOrigins: [app.llm.url] });
  const result = await page.evaluate(
    async ({ url, model }) => {
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [
            { role: 'system', content: 'You are a patient in a clinic. Answer in one short sentence.' },
            { role: 'user', content: 'What brings you in today?' },
          ],
          max_tokens: 24,
          temperature: 0,
        }),
      });
      return {
        status: r.status,
        // A cross-origin fetch only resolves if the server's CORS headers allow this origin.
        crossOrigin: location.origin !== new URL(url).origin,
        body: await r.json(),
      };
    },
    { url: app.llm.url, model: app.llm.model },
  );
  assert.equal(result.status, 200);
  assert.equal(result.crossOrigin, true, 'the page and the model server are different origins');
  const text = result.body.choices?.[0]?.message?.content;
  assert.equal(typeof text, 'string');
  assert.ok(text.trim().length > 0, 'the model returned some text');
  assert.ok(result.body.usage?.completion_tokens > 0, 'usage is reported');
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('the local model streams server-sent events to the page', async () => {
  const { context, page } = await openApp(app, { allowedOrigins: [app.llm.url] });
  const chunks = await page.evaluate(
    async ({ url, model }) => {
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          stream: true,
          messages: [{ role: 'user', content: 'Say hello.' }],
          max_tokens: 12,
          temperature: 0,
        }),
      });
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let events = 0;
      let done = false;
      let buffer = '';
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += decoder.decode(value, { stream: true });
      }
      for (const line of buffer.split('\n')) {
        if (line.startsWith('data: [DONE]')) done = true;
        else if (line.startsWith('data: ')) events += 1;
      }
      return { events, done };
    },
    { url: app.llm.url, model: app.llm.model },
  );
  assert.ok(chunks.events > 1, `expected several stream events, got ${chunks.events}`);
  assert.equal(chunks.done, true, 'the stream ends with data: [DONE]');
  await context.close();
});
