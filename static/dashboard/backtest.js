// Live progress on the backtest pages: every queued or running backtest shown (an
// element with data-backtest-id and data-status) is subscribed on /ws/live/ and its
// status badge and progress follow the run. On the detail page a run that finishes
// reloads the page once, which then renders its metrics, charts and exports.
// Loaded as a file (no inline script); the connection is live_socket.js's (dashboard.js
// opens none on these pages).
(function () {
  "use strict";

  var FINISHED = ["done", "failed"];

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var STRINGS = readJson("dashboard-strings", {});
  var STATUS_LABELS = (STRINGS.labels || {}).backtest_status || {};
  var DETAIL_PAGE = document.body.dataset.page === "backtest";

  function finished(status) {
    return FINISHED.indexOf(status) >= 0;
  }

  function elementsOf(id) {
    return document.querySelectorAll('[data-backtest-id="' + id + '"][data-status]');
  }

  function unfinishedIds() {
    var ids = [];
    document.querySelectorAll("[data-backtest-id][data-status]").forEach(function (node) {
      var id = Number(node.dataset.backtestId);
      if (!finished(node.dataset.status) && ids.indexOf(id) < 0) ids.push(id);
    });
    return ids;
  }

  function setText(holder, field, text) {
    var node = holder.querySelector('[data-field="' + field + '"]');
    if (node) node.textContent = text;
  }

  // One element (a table row, or the detail page's figures) brought to `message`.
  function show(holder, message) {
    holder.dataset.status = message.status;
    holder.dataset.progress = String(message.progress);
    var badge = holder.querySelector('[data-field="status"]');
    if (badge) {
      badge.className = "badge backtest-" + message.status;
      badge.textContent = STATUS_LABELS[message.status] || message.status;
    }
    setText(holder, "progress", message.progress + "%");
    var bar = holder.querySelector('[data-field="progress-bar"]');
    if (bar) {
      bar.value = message.progress;
      bar.textContent = message.progress + "%";
    }
  }

  function BacktestLive() {
    this.stopped = false;
    this.subscribed = false;
  }

  BacktestLive.prototype.connect = function () {
    window.spotdeskConnectLive(this, STRINGS);
  };

  BacktestLive.prototype.onOpen = function (socket) {
    this.subscribed = false;
    // Subscribing (again, after a reconnect) sends each run's current state first.
    var ids = unfinishedIds();
    if (ids.length) socket.send(JSON.stringify({ type: "subscribe", backtests: ids }));
  };

  BacktestLive.prototype.receive = function (message) {
    if (message.type === "subscribed") {
      this.subscribed = true; // the states sent first are shown by now
      return;
    }
    if (message.type === "error") {
      window.console.warn("backtest live updates refused:", message.field, message.rule);
      return;
    }
    if (message.type !== "backtest") return;
    elementsOf(message.id).forEach(function (holder) {
      show(holder, message);
    });
    if (DETAIL_PAGE && finished(message.status) && !this.stopped) {
      // The page was rendered unfinished (else it would not have subscribed): the
      // server renders the metrics, curves and exports once; no socket is opened then.
      this.stopped = true;
      this.socket.close();
      window.location.reload();
    }
  };

  if (!("WebSocket" in window) || !unfinishedIds().length) return;
  var live = new BacktestLive();
  window.spotdeskBacktestLive = live; // for the browser tests and the console
  live.connect();
})();
