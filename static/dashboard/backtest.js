// Live progress on the backtest pages: every queued or running backtest shown (an
// element with data-backtest-id and data-status) is subscribed on /ws/live/ and its
// status badge and progress follow the run. On the detail page a run that finishes
// reloads the page once, which then renders its metrics, charts and exports.
// Loaded as a file (no inline script); dashboard.js opens no socket on these pages.
(function () {
  "use strict";

  var FINISHED = ["done", "failed"];
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 15000;

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

  function liveState(state) {
    var node = document.getElementById("live-state");
    if (!node) return;
    node.dataset.state = state;
    node.textContent = STRINGS[state] || state;
  }

  function BacktestLive() {
    this.delay = RETRY_FIRST_MS;
    this.stopped = false;
    this.subscribed = false;
  }

  BacktestLive.prototype.connect = function () {
    var self = this;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/live/");
    self.socket = socket;
    socket.onopen = function () {
      self.delay = RETRY_FIRST_MS;
      self.subscribed = false;
      liveState("live");
      // Subscribing (again, after a reconnect) sends each run's current state first.
      var ids = unfinishedIds();
      if (ids.length) socket.send(JSON.stringify({ type: "subscribe", backtests: ids }));
    };
    socket.onmessage = function (message) {
      self.receive(JSON.parse(message.data));
    };
    socket.onclose = function (event) {
      // 4401/4403: not signed in or not verified; retrying would not help.
      if (event.code === 4401 || event.code === 4403 || self.stopped) {
        liveState("offline");
        return;
      }
      liveState("reconnecting");
      setTimeout(function () {
        self.connect();
      }, self.delay);
      self.delay = Math.min(self.delay * 2, RETRY_MAX_MS);
    };
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
