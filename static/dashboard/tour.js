// The onboarding tour: a few steps pointing at the main elements, shown once per user
// (the server remembers it), skippable, restartable from the `?` help overlay.
(function () {
  "use strict";

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var STRINGS = readJson("extras-strings", {});
  var PREFS = readJson("dashboard-prefs", { urls: {} });
  var STEPS = readJson("tour-steps", []);
  var box = document.getElementById("tour");
  if (!box) return;

  function t(key) {
    return STRINGS[key] || key;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  var steps = [];
  var index = 0;
  var highlighted = null;

  function targetOf(step) {
    var node = document.querySelector(step.target);
    return node && node.getClientRects().length ? node : null;
  }

  function highlight(node) {
    if (highlighted) highlighted.classList.remove("tour-target");
    highlighted = node;
    if (node) {
      node.classList.add("tour-target");
      if (node.scrollIntoView) node.scrollIntoView({ block: "nearest" });
    }
  }

  function show() {
    var step = steps[index];
    document.getElementById("tour-title").textContent = step.title;
    document.getElementById("tour-text").textContent = step.text;
    document.getElementById("tour-progress").textContent =
      t("tour_step") + " " + (index + 1) + " " + t("tour_of") + " " + steps.length;
    document.getElementById("tour-next").textContent =
      index === steps.length - 1 ? t("tour_done") : t("tour_next");
    box.dataset.step = String(index + 1);
    highlight(targetOf(step));
  }

  function remember() {
    if (!PREFS.tour_pending) return Promise.resolve();
    PREFS.tour_pending = false;
    return fetch(PREFS.urls.tour, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    }).catch(function () {
      PREFS.tour_pending = true; // offline: asked again next time
    });
  }

  function end() {
    box.hidden = true;
    highlight(null);
    return remember();
  }

  function start() {
    steps = STEPS.filter(targetOf);
    if (!steps.length) return;
    index = 0;
    box.hidden = false;
    show();
  }

  document.getElementById("tour-next").addEventListener("click", function () {
    if (index >= steps.length - 1) end();
    else {
      index += 1;
      show();
    }
  });
  document.getElementById("tour-skip").addEventListener("click", end);

  // The restart button lives in the `?` help overlay.
  var restart = document.getElementById("tour-restart");
  var panel = document.querySelector("#help-overlay .overlay-panel");
  var close = document.getElementById("help-close");
  if (restart && panel) {
    panel.insertBefore(restart, close && close.parentNode === panel ? close : null);
    restart.addEventListener("click", function () {
      if (close) close.click();
      start();
    });
  }

  window.spotdeskTour = { start: start, end: end };
  if (PREFS.tour_pending) start();
})();
