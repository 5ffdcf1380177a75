// Live progress on the backtest pages, the dashboard's and the ops console's: every
// queued or running backtest shown (an element with data-backtest-id and data-status)
// is subscribed on /ws/live/ and its status badge and progress follow the run. When a
// run finishes:
// - an element with data-row-url (a row of the dashboard's list) is replaced by the row
//   the server renders now, its metrics filled in;
// - the runs inside an element marked data-reload-when-finished (the detail page, the
//   ops console's backtest and batch pages) reload the page once all of them have
//   finished: the server then renders the metrics, charts and exports.
// A batch's own status and progress (elements with data-batch-id and data-status, on the
// ops console's batch page) follow it the same way. A batch inside
// data-reload-when-finished reloads the page once it has finished (its summary written),
// or, when the page follows no run, once it moved on from what the page shows: runs the
// page does not show yet have finished (walk-forward test runs started since).
// Loaded as a file (no inline script); the connection is live_socket.js's (dashboard.js
// opens none on these pages).
(function () {
  "use strict";

  var FINISHED = ["done", "failed"];
  // A later status ranks higher; finished states rank alike (apps/dashboard/backtest_live.py).
  var STATUS_RANK = { queued: 0, running: 1, done: 2, failed: 2 };
  // Well under the channel's MAX_SUBSCRIPTIONS (200). A page showing more unfinished
  // runs (a large batch) watches the first ones and, once they are done, reloads and
  // watches the next ones.
  var MAX_WATCHED = 100;

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var STRINGS = readJson("dashboard-strings", {});
  var STATUS_LABELS = (STRINGS.labels || {}).backtest_status || {};

  function finished(status) {
    return FINISHED.indexOf(status) >= 0;
  }

  function elementsOf(id) {
    return Array.prototype.slice.call(
      document.querySelectorAll('[data-backtest-id="' + id + '"][data-status]')
    );
  }

  function unfinishedIds() {
    var ids = [];
    document.querySelectorAll("[data-backtest-id][data-status]").forEach(function (node) {
      var id = Number(node.dataset.backtestId);
      if (!finished(node.dataset.status) && ids.indexOf(id) < 0) ids.push(id);
    });
    return ids.slice(0, MAX_WATCHED);
  }

  function batchElementsOf(id) {
    return Array.prototype.slice.call(
      document.querySelectorAll('[data-batch-id="' + id + '"][data-status]')
    );
  }

  function unfinishedBatchIds() {
    var ids = [];
    document.querySelectorAll("[data-batch-id][data-status]").forEach(function (node) {
      var id = Number(node.dataset.batchId);
      if (!finished(node.dataset.status) && ids.indexOf(id) < 0) ids.push(id);
    });
    return ids;
  }

  function insideReload(nodes) {
    return nodes.some(function (node) {
      return node.closest("[data-reload-when-finished]") !== null;
    });
  }

  function reloadsPage(id) {
    return insideReload(elementsOf(id));
  }

  // True when `message` describes a later state than the one `holder` shows: a later
  // status, or the same one with more progress.
  function isAhead(message, holder) {
    var rank = STATUS_RANK[message.status] || 0;
    var shown = STATUS_RANK[holder.dataset.status] || 0;
    if (rank !== shown) return rank > shown;
    return (
      message.status !== holder.dataset.status ||
      message.progress > Number(holder.dataset.progress || 0)
    );
  }

  function hasFinished(id) {
    return elementsOf(id).every(function (node) {
      return finished(node.dataset.status);
    });
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

  // A finished run's row, as the server renders it now (metrics, same formatting): our
  // own fragment from the same origin, the one HTML this script inserts.
  function replaceRow(row) {
    fetch(row.dataset.rowUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html || !row.isConnected) return;
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        // A login page (the session ended) has no such row: the old one stays.
        var fresh = holder.querySelector("tr[data-backtest-id]");
        if (fresh && fresh.dataset.backtestId === row.dataset.backtestId) row.replaceWith(fresh);
      })
      .catch(function (error) {
        window.console.warn("backtest row not refreshed:", error);
      });
  }

  function BacktestLive() {
    this.stopped = false;
    this.subscribed = false;
    this.watched = [];
  }

  BacktestLive.prototype.connect = function () {
    window.spotdeskConnectLive(this, STRINGS);
  };

  BacktestLive.prototype.onOpen = function (socket) {
    this.subscribed = false;
    // Subscribing (again, after a reconnect) sends each run's and batch's current state
    // first.
    this.watched = unfinishedIds();
    var batches = unfinishedBatchIds();
    var request = { type: "subscribe" };
    if (this.watched.length) request.backtests = this.watched;
    if (batches.length) request.batches = batches;
    if (this.watched.length || batches.length) socket.send(JSON.stringify(request));
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
    if (message.type === "batch") {
      this.receiveBatch(message);
      return;
    }
    if (message.type !== "backtest") return;
    elementsOf(message.id).forEach(function (holder) {
      var wasRunning = !finished(holder.dataset.status);
      show(holder, message);
      if (wasRunning && finished(message.status) && holder.dataset.rowUrl) replaceRow(holder);
    });
    if (finished(message.status)) this.reloadIfAllFinished();
  };

  BacktestLive.prototype.receiveBatch = function (message) {
    var holders = batchElementsOf(message.id);
    // Following no run, a batch that moved on has runs the page does not show yet.
    var movedOn = holders.some(function (holder) {
      return isAhead(message, holder);
    });
    holders.forEach(function (holder) {
      show(holder, message);
    });
    if (!insideReload(holders)) return;
    if (finished(message.status) || (movedOn && !this.followsRuns())) this.reload();
  };

  // Whether a run this page follows is still unfinished.
  BacktestLive.prototype.followsRuns = function () {
    return !this.watched.every(hasFinished);
  };

  BacktestLive.prototype.reloadIfAllFinished = function () {
    var awaited = this.watched.filter(reloadsPage);
    if (!awaited.length || !awaited.every(hasFinished)) return;
    // The page was rendered with these runs unfinished (else it would not have watched
    // them): the server renders their results once.
    this.reload();
  };

  // Once: no socket is opened again.
  BacktestLive.prototype.reload = function () {
    if (this.stopped) return;
    this.stopped = true;
    this.socket.close();
    window.location.reload();
  };

  if (!("WebSocket" in window) || !(unfinishedIds().length || unfinishedBatchIds().length)) {
    return;
  }
  var live = new BacktestLive();
  window.spotdeskBacktestLive = live; // for the browser tests and the console
  live.connect();
})();
