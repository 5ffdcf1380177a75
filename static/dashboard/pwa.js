// The installable web app: registers the service worker, shows the last loaded state
// read-only while offline, and clears the worker's caches on logout.
(function () {
  "use strict";

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var PREFS = readJson("dashboard-prefs", { urls: {} });
  var CACHE_PREFIX = "spotdesk-";

  if ("serviceWorker" in navigator && PREFS.urls.service_worker) {
    navigator.serviceWorker
      .register(PREFS.urls.service_worker, { scope: PREFS.urls.scope })
      .catch(function () {
        // Not installable here (e.g. plain http on a remote host): the page still works.
      });
  }

  // --- offline: read-only ------------------------------------------------------------

  var banner = document.getElementById("offline-banner");

  function controlsToFreeze() {
    return document.querySelectorAll(
      "button.control, #voice-button, #layout-customize, .widget-tool, #language-select, #logout-form button"
    );
  }

  function showOffline(offline) {
    if (banner) banner.hidden = !offline;
    document.body.classList.toggle("offline", offline);
    controlsToFreeze().forEach(function (node) {
      if (offline && !node.disabled) {
        node.disabled = true;
        node.dataset.offlineDisabled = "1";
      } else if (!offline && node.dataset.offlineDisabled) {
        node.disabled = false;
        delete node.dataset.offlineDisabled;
      }
    });
  }

  window.addEventListener("offline", function () {
    showOffline(true);
  });
  window.addEventListener("online", function () {
    showOffline(false);
  });
  if (navigator.onLine === false) showOffline(true);

  // --- logout: nothing of this user stays cached ---------------------------------------

  function clearCaches() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "logout" });
    }
    if (!window.caches) return Promise.resolve();
    return window.caches.keys().then(function (keys) {
      return Promise.all(
        keys
          .filter(function (key) {
            return key.indexOf(CACHE_PREFIX) === 0;
          })
          .map(function (key) {
            return window.caches.delete(key);
          })
      );
    });
  }

  var logout = document.getElementById("logout-form");
  var toolbar = document.querySelector(".topbar .toolbar");
  if (logout) {
    if (toolbar) toolbar.appendChild(logout);
    logout.addEventListener("submit", function (event) {
      event.preventDefault();
      var done = function () {
        logout.submit(); // does not fire "submit" again
      };
      clearCaches().then(done, done);
    });
  }

  window.spotdeskPwa = { clearCaches: clearCaches, showOffline: showOffline };
})();
