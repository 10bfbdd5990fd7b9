// A scripted OpenAI-compatible clinician model for evaluation runs in the browser (the e2e
// test and scripts/eval-bench.mjs): each reply is decided by the request alone, with CORS
// headers for the app's page, and every request recorded for counting on the server's side.
import { startScriptedServer } from './harness.mjs';

export const QUESTIONS = [
  "Hello, I'm Dr Lee, one of the emergency doctors. What brings you in today?",
  'When did this start, and has it changed since?',
  'Do you have any allergies to medicines?',
  'What medicines do you take at the moment?',
  'Have you had anything like this before?',
  'Is there anything else worrying you?',
  'Does anyone at home have the same symptoms?',
  'Have you travelled anywhere recently?',
  'How is your breathing right now?',
  'Do you smoke or drink alcohol?',
  'Who is at home with you?',
  'Is there anything you would like to ask me?',
];
const END_FORM = { diagnosis: 'Not yet clear', differential: [], plan: 'Observe and reassess', disposition: null };

/**
 * A scripted clinician model: each reply is decided by the request alone (the turn number is
 * the count of earlier assistant messages). Model `down` answers 503 until `state.healed`.
 * `state.delayMs` slows every reply (a model's time). Records every request, and in
 * `state.busyMs` the time spent answering besides the delay.
 */
export async function startWard() {
  const state = { requests: [], healed: false, delayMs: 0, busyMs: 0 };
  const server = await startScriptedServer((req, body, res, cors) => {
    const t0 = performance.now();
    res.on('finish', () => (state.busyMs += performance.now() - t0 - state.delayMs));
    const j = JSON.parse(body || '{}');
    const schema = j.response_format?.json_schema?.name ?? null;
    const earlier = (j.messages ?? []).filter((m) => m.role === 'assistant').length;
    const seen = { model: j.model, seed: j.seed, schema, earlier, body };
    state.requests.push(seen);
    setTimeout(() => {
      if (j.model === 'down' && !state.healed) {
        res.writeHead(503, { ...cors, 'content-type': 'application/json', 'retry-after': '0' });
        res.end(JSON.stringify({ error: { message: 'the model is down for maintenance' } }));
        return;
      }
      const content =
        schema === 'end_form'
          ? JSON.stringify(END_FORM)
          : JSON.stringify({ speak: QUESTIONS[earlier % QUESTIONS.length], actions: [], eos: false });
      res.writeHead(200, { ...cors, 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'ward',
          object: 'chat.completion',
          model: j.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
        }),
      );
    }, state.delayMs);
  });
  return { state, ...server };
}

/** A request that opens a job: a clinician call with no earlier turn. */
export const opensJob = (r) => r.schema === 'clinician_turn' && r.earlier === 0;

