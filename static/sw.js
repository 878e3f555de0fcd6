// Vrijbaan service worker: static files from a versioned cache, pages always from the network.
// Pages hold personal data, so none is ever cached: without a connection the worker shows our own
// offline page, or the generic offline visit form for a case's "record a contact" page.
"use strict";
// Filled in by the server (webapp/pwa.py) with this release's version, files and addresses.
const RELEASE = {"version": "dev", "precache": []};
const PREFIX = "vrijbaan-static-";
const CACHE = PREFIX + RELEASE.version;
// The visit form's address, with {case} where the case's number goes.
const VISIT_FORM = new RegExp("^" + String(RELEASE.visitForm || "").split("{case}").map(function (part) {
  return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
}).join("\\d+") + "$");

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // Checked with the server rather than taken from the HTTP cache unseen ("no-cache": what
      // the page just loaded comes back as a 304, not downloaded twice), and without cookies:
      // the offline pages are rendered for nobody in particular.
      const requests = RELEASE.precache.map(function (url) {
        const page = url === RELEASE.offline || url === RELEASE.offlineVisit;
        return new Request(url, { cache: "no-cache", credentials: page ? "omit" : "same-origin" });
      });
      return cache.addAll(requests);
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.startsWith(PREFIX) && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function offlineFallback(url) {
  const page = VISIT_FORM.test(url.pathname) ? RELEASE.offlineVisit : RELEASE.offline;
  return caches.match(page, { cacheName: CACHE, ignoreVary: true }).then(function (cached) {
    return cached || Response.error();
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    // Network first, never stored; our own page instead of the browser's error.
    event.respondWith(fetch(request).catch(function () {
      // A form sent as a page (POST) never gets the visit form: it shows that nothing arrived.
      return offlineFallback(request.method === "GET" ? url : new URL(RELEASE.offline, url));
    }));
    return;
  }
  if (request.method !== "GET") return;

  if (request.headers.get("HX-Boosted") === "true") {
    // A boosted link: htmx would only say "no connection". Let the browser navigate instead, so
    // the navigation above shows the offline page (or the offline visit form).
    event.respondWith(fetch(request).catch(function () {
      return new Response("", { status: 200, headers: { "HX-Redirect": url.pathname + url.search } });
    }));
    return;
  }

  if (RELEASE.precache.indexOf(url.pathname) !== -1 && !url.search) {
    event.respondWith(caches.match(request, { cacheName: CACHE }).then(function (cached) {
      return cached || fetch(request);
    }));
  }
});
