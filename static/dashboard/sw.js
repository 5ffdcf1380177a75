// Spotdesk's service worker (served at /dashboard/sw.js, scope /dashboard/).
// Network first for the dashboard pages, their API reads and static files; the last
// good answer is kept so the page shows read-only while offline. Logout, or a page
// answered with the login redirect, clears everything cached.
"use strict";

var CACHE = "spotdesk-dashboard-v1";
var PREFIX = "spotdesk-";
var CACHED_PATHS = ["/dashboard/", "/api/v1/", "/static/"];

function clearAll() {
  return caches.keys().then(function (keys) {
    return Promise.all(
      keys
        .filter(function (key) {
          return key.indexOf(PREFIX) === 0;
        })
        .map(function (key) {
          return caches.delete(key);
        })
    );
  });
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (keys) {
        return Promise.all(
          keys
            .filter(function (key) {
              return key.indexOf(PREFIX) === 0 && key !== CACHE;
            })
            .map(function (key) {
              return caches.delete(key);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "logout") event.waitUntil(clearAll());
});

function cacheable(request) {
  if (request.method !== "GET") return false;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (url.pathname === "/dashboard/sw.js") return false;
  // Export files and their progress are one-off downloads, not page state.
  if (/\/exports?\//.test(url.pathname)) return false;
  return CACHED_PATHS.some(function (prefix) {
    return url.pathname.indexOf(prefix) === 0;
  });
}

function signedOut(response) {
  return response.redirected && new URL(response.url).pathname.indexOf("/accounts/login/") === 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!cacheable(request)) return;
  event.respondWith(
    fetch(request)
      .then(function (response) {
        if (signedOut(response)) {
          return clearAll().then(function () {
            return response;
          });
        }
        if (response.ok && response.type === "basic") {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) {
            return cache.put(request, copy);
          });
        }
        return response;
      })
      .catch(function () {
        return caches.match(request).then(function (cached) {
          if (cached) return cached;
          return new Response("offline", {
            status: 503,
            headers: { "Content-Type": "text/plain; charset=utf-8" },
          });
        });
      })
  );
});
