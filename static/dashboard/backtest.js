// Live progress on the backtest pages, the dashboard's and the ops console's: every
// queued or running backtest shown (an element with data-backtest-id and data-status)
// is subscribed on /ws/live/ and its status badge and progress follow the run. When a
// run finishes:
// - an element with data-row-url (a row of the dashboard's list) is replaced by the row
//   the server renders now, its metrics filled in;
// - the runs inside an element marked data-reload-when-finished (the detail page, the
//   ops console's backtest and batch pages) reload the page once all of them have
//   finished: the server then renders the metrics, charts and exports.
// Loaded as a file (no inline script); the connection is live_socket.js's (dashboard.js
// opens none on these pages).
(function () {
  "use strict";

  var FINISHED = ["done", "failed"];
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

  function reloadsPage(id) {
    return elementsOf(id).some(function (node) {
      return node.closest("[data-reload-when-finished]") !== null;
    });
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
    // Subscribing (again, after a reconnect) sends each run's current state first.
    this.watched = unfinishedIds();
    if (this.watched.length) {
      socket.send(JSON.stringify({ type: "subscribe", backtests: this.watched }));
    }
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
      var wasRunning = !finished(holder.dataset.status);
      show(holder, message);
      if (wasRunning && finished(message.status) && holder.dataset.rowUrl) replaceRow(holder);
    });
    if (finished(message.status)) this.reloadIfAllFinished();
  };

  BacktestLive.prototype.reloadIfAllFinished = function () {
    var awaited = this.watched.filter(reloadsPage);
    if (this.stopped || !awaited.length || !awaited.every(hasFinished)) return;
    // The page was rendered with these runs unfinished (else it would not have watched
    // them): the server renders their results once; no socket is opened then.
    this.stopped = true;
    this.socket.close();
    window.location.reload();
  };

  if (!("WebSocket" in window) || !unfinishedIds().length) return;
  var live = new BacktestLive();
  window.spotdeskBacktestLive = live; // for the browser tests and the console
  live.connect();
})();
