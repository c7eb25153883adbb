// The driver page's service worker (served as /driver/sw.js, scope /driver): the page shell
// and its static files are cached at install so that the page starts without a network; every
// request still tries the network first (a deploy shows at once), and falls back to the cache.
// The API is network-first too; the driver's orders (GET) are kept for an offline start.
// Nothing else of the API is cached, and writes are never touched.

const VERSION = "v1";
const SHELL_CACHE = `driver-shell-${VERSION}`;
const API_CACHE = `driver-api-${VERSION}`;
const PAGE = "/driver";
const SHELL = [
  "/driver/manifest.webmanifest",
  "/static/css/base.css",
  "/static/css/driver.css",
  "/static/js/driver.js",
  "/static/js/driver_cards.js",
  "/static/js/driver_format.js",
  "/static/js/driver_location.js",
  "/static/js/driver_notices.js",
  "/static/js/driver_sheet.js",
  "/static/js/i18n/driver.js",
  "/static/js/api.js",
  "/static/js/dom.js",
  "/static/js/i18n.js",
  "/static/js/page_shell.js",
  "/static/icons/driver.svg",
  "/static/icons/driver-maskable.svg",
];
// API reads kept for offline use: the orders and who is logged in (the top bar).
const CACHED_API = ["/api/v1/driver/orders", "/api/v1/auth/me"];

async function install() {
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll(SHELL);
  // The page itself only if it is the page (a session that ended redirects to /login).
  const page = await fetch(PAGE, { credentials: "same-origin" });
  if (page.ok && !page.redirected) await cache.put(PAGE, page);
  await self.skipWaiting();
}

self.addEventListener("install", (event) => event.waitUntil(install()));

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((key) => key.startsWith("driver-") && ![SHELL_CACHE, API_CACHE].includes(key))
        .map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request, cacheName, { store }) {
  try {
    const response = await fetch(request);
    // A redirect (to /login: the session ended) or an error is never kept.
    if (store && response.ok && !response.redirected) {
      const cache = await caches.open(cacheName);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await caches.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) {
    const keep = CACHED_API.includes(url.pathname);
    event.respondWith(networkFirst(request, API_CACHE, { store: keep }));
    return;
  }
  if (request.mode === "navigate") {
    // Any page under the scope starts from the shell when offline.
    event.respondWith(networkFirst(request, SHELL_CACHE, { store: url.pathname === PAGE })
      .catch(() => caches.match(PAGE)));
    return;
  }
  // Every static file the page loads is kept (a module the shared top bar imports one day
  // is then there offline too, without this list knowing it).
  const keep = SHELL.includes(url.pathname) || url.pathname.startsWith("/static/");
  event.respondWith(networkFirst(request, SHELL_CACHE, { store: keep }));
});
