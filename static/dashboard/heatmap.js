// Exposure heat map: switch the asset grid between per-account columns and the sum,
// remembered in this browser. The figures and colors are rendered by the server.
(function () {
  "use strict";
  var KEY = "spotdesk.heatmap.view";
  var map = document.getElementById("heatmap");
  var button = document.getElementById("heatmap-view");
  if (!map || !button) return;

  function show(view) {
    map.dataset.view = view;
    button.textContent = view === "sum" ? button.dataset.labelSum : button.dataset.labelAccounts;
    button.setAttribute("aria-pressed", view === "sum" ? "true" : "false");
  }

  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
  show(saved === "sum" ? "sum" : "accounts");
  button.addEventListener("click", function () {
    var next = map.dataset.view === "sum" ? "accounts" : "sum";
    show(next);
    try { window.localStorage.setItem(KEY, next); } catch (e) { /* storage blocked */ }
  });
})();
