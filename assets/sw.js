// Bedside's service worker: keeps the app working offline after the first visit.
//
// scripts/csp_hashes.py (the Trunk post-build hook) fills in PRECACHE (every file of the
// build: the page, the hashed JS, wasm and CSS, icons, manifest) and VERSION (a hash of them
// all). A new release therefore has a new sw.js; the browser installs it, it caches the new
// files and deletes the old caches.
//
// Only this origin's GET requests are handled: calls to LLM endpoints (other origins) and
// anything else go to the network untouched.
const VERSION = '__BEDSIDE_VERSION__';
const PRECACHE = __BEDSIDE_PRECACHE__;
const CACHE = `bedside-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('bedside-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // Every route is the same page: the network's copy when online (a new release shows at
    // once), the cached one offline.
    event.respondWith(
      fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match('/index.html'))),
    );
    return;
  }
  // Hashed assets never change under one name: the cache first.
  event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
});
