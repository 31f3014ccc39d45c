/* Safer Libraries service worker.
 *
 * Served at /sw.js (scope "/") by app/main/views.py, which fills in the two constants below.
 * - the app shell (CSS, JS, icons, /offline) is precached and served cache-first;
 * - pages are network-first (with navigation preload); a page the server marked
 *   "X-Offline-Page: keep" is copied into the pages cache so the worker can open it again with
 *   no signal;
 * - /api/ is never touched: the sync client must see the server's real answer;
 * - Background Sync ('sync', tag 'outbox') drains the outbox with the same code as the pages.
 */
const VERSION = "__ASSET_VERSION__";
const SHELL = ["__SHELL_FILES__"];

// The cache names' prefixes are declared once on the server (app/main/offline.py) and filled in
// when /sw.js is served; the pages read the same ones from the phone config.
const SHELL_PREFIX = "__SHELL_CACHE_PREFIX__";
const PAGES_PREFIX = "__PAGES_CACHE_PREFIX__";
const SHELL_CACHE = SHELL_PREFIX + VERSION;
const PAGES_CACHE = PAGES_PREFIX + VERSION;
const isOurs = (name) => name.startsWith(SHELL_PREFIX) || name.startsWith(PAGES_PREFIX);
const OFFLINE_URL = '/offline';

// importScripts works only while the worker first runs (not later in an event handler), so
// the outbox and sync client are loaded here, at the top.
importScripts('/static/js/outbox.js?v=' + VERSION, '/static/js/sync.js?v=' + VERSION);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.concat([OFFLINE_URL]).map(precacheRequest));
    // Only now: taking over before the precache is complete would leave pages with no shell.
    await self.skipWaiting();
  })());
});

/* The shell's files carry a version in their URL (?v=: this deploy's for static files, a digest
 * of its content for /phone-config.js), and the server marks such a URL immutable: whatever the
 * HTTP cache holds for it is that very file, so the precache takes it from there (what the page
 * has just loaded is not downloaded a second time on a weak signal). Anything else (the offline
 * page) is asked of the server again ('no-cache'). */
function precacheRequest(url) {
  const versioned = new URL(url, self.location.origin).searchParams.has('v');
  return new Request(url, { cache: versioned ? 'default' : 'no-cache' });
}

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Navigation preload: the browser asks the server for a page while this worker starts up,
    // instead of after (one start-up less on every page opened on a weak signal).
    if (self.registration.navigationPreload) {
      await self.registration.navigationPreload.enable();
    }
    // Delete this app's caches from older versions (an old cached form must not be shown
    // after an update); other caches on the origin are not ours to touch.
    const keep = [SHELL_CACHE, PAGES_CACHE];
    const names = await caches.keys();
    await Promise.all(names.filter((name) => isOurs(name) && !keep.includes(name))
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Not handled (the browser goes to the network as if there were no worker): other origins,
  // anything but GET (form posts, the sync API's POSTs), and every /api/ request.
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) {
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(networkFirstPage(event));
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(cacheFirst(request));
  }
});

/* A page's cache key: its URL without query or fragment (/incidents/new?fix=... is the form). */
function pageKey(url) {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
}

async function networkFirstPage(event) {
  const request = event.request;
  try {
    // A navigation's fetch does not follow redirects (mode 'manual'): a redirect comes back as
    // an opaque response, passed to the browser as it is, and never kept. The preloaded answer
    // (see 'activate') is the same request made earlier; without one, fetch it now.
    const response = (await event.preloadResponse) || await fetch(request);
    if (keepable(response)) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES_CACHE).then((cache) => cache.put(pageKey(request.url), copy)));
    }
    return response;
  } catch (error) {
    // fetch() rejects only when there was no answer at all (no signal); a server error page
    // is an answer and is shown as it is.
    const pages = await caches.open(PAGES_CACHE);
    const kept = await pages.match(pageKey(request.url));
    if (kept) {
      return kept;
    }
    const offline = await caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE });
    return offline || new Response('No signal, and this page is not saved on this phone.',
      { status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  }
}

function keepable(response) {
  return response.status === 200 && !response.redirected && response.headers.get('X-Offline-Page') === 'keep';
}

/* Fetch and keep the pages not kept yet (same rules as a navigation: only pages marked "keep"). */
async function keepPages(urls) {
  const pages = await caches.open(PAGES_CACHE);
  const kept = [];
  for (const url of urls) {
    const key = pageKey(new URL(url, self.location.origin).href);
    if (new URL(key).origin !== self.location.origin || await pages.match(key)) {
      continue;
    }
    try {
      // redirect: 'manual': a signed-out answer (a redirect to sign in) is never kept.
      const response = await fetch(key, { credentials: 'same-origin', redirect: 'manual' });
      if (keepable(response)) {
        await pages.put(key, response);
        kept.push(key);
      }
    } catch (error) {
      // no signal: nothing to keep now
    }
  }
  return { type: 'pages-kept', kept: kept };
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE });
  return cached || fetch(request);
}

/* Drain the outbox and tell open pages, so their status bars catch up. */
async function drainAndTell() {
  const summary = await SaferSync.drain();
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  windows.forEach((client) => client.postMessage({ type: 'outbox-changed', summary: summary }));
  return summary;
}

self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') {
    return;
  }
  event.waitUntil(drainAndTell().then((summary) => {
    // A rejected promise asks the browser to try this sync again later (with its own backoff).
    if (summary.state === 'offline' || summary.state === 'error') {
      throw new Error('Outbox not sent yet (' + summary.state + '); the browser will retry.');
    }
  }));
});

self.addEventListener('message', (event) => {
  const message = event.data || {};
  const reply = (value) => { if (event.ports && event.ports[0]) { event.ports[0].postMessage(value); } };
  if (message.type === 'clear-pages') {
    // Sign-out on a shared phone: the next person must never see these pages.
    event.waitUntil(caches.keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith(PAGES_PREFIX)).map((name) => caches.delete(name))))
      .then(() => reply({ type: 'pages-cleared' })));
  } else if (message.type === 'keep-pages') {
    // A signed-in page asks for the worker's own forms to be kept, so they open with no signal
    // even if the worker never opened them before losing signal.
    event.waitUntil(keepPages(message.urls || []).then(reply));
  } else if (message.type === 'drain') {
    // A page about to go away asks the worker to carry on sending.
    event.waitUntil(drainAndTell().then(reply, (error) => reply({ state: 'error', message: String(error) })));
  }
});

/* A lone-working reminder tapped (lw_status.js shows them): bring the app forward on the
 * page the reminder is about, opening it if no window is left. */
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/lone-working/', self.location.origin);
  if (target.origin !== self.location.origin) {
    return;
  }
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const same = windows.find((client) => new URL(client.url).pathname === target.pathname);
    if (same) {
      return same.focus();
    }
    if (windows.length && 'navigate' in windows[0]) {
      const client = await windows[0].focus();
      return client.navigate(target.href);
    }
    return self.clients.openWindow(target.href);
  })());
});
