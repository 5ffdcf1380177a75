// The dashboard's light JS: theme, language, shortcuts, confirmed controls, the live
// channel (/ws/live/ with resume by sequence number) and the charts.
// The server renders every page complete; this only keeps it current.
(function () {
  "use strict";

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var STRINGS = readJson("dashboard-strings", {});
  var LABELS = STRINGS.labels || {};
  var LIVE = readJson("dashboard-live", {});
  var PAGE = document.body.dataset.page;
  var root = document.documentElement;

  function t(key) {
    return STRINGS[key] || key;
  }

  function label(kind, value) {
    return (LABELS[kind] && LABELS[kind][value]) || value;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () {
      box.hidden = true;
    }, 4000);
  }

  function localTime(value) {
    var date = typeof value === "number" ? new Date(value) : new Date(value || Date.now());
    return date.toLocaleString(root.lang || undefined);
  }

  // --- theme: follows the system until the user picks one, then remembered ----------

  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function effectiveTheme() {
    if (root.dataset.theme) return root.dataset.theme;
    return systemDark && !systemDark.matches ? "light" : "dark";
  }

  function showTheme() {
    var button = document.getElementById("theme-toggle");
    var theme = effectiveTheme();
    if (button) {
      button.textContent = theme === "dark" ? t("theme_dark") : t("theme_light");
      button.setAttribute("aria-pressed", String(theme === "dark"));
    }
    document.dispatchEvent(new CustomEvent("dashboard:theme", { detail: theme }));
  }

  function toggleTheme() {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    root.dataset.theme = next;
    try {
      window.localStorage.setItem("spotdesk.theme", next);
    } catch (e) {
      // Not remembered where storage is blocked; the page still switches.
    }
    showTheme();
  }

  if (systemDark && systemDark.addEventListener) systemDark.addEventListener("change", showTheme);

  // --- dialogs ---------------------------------------------------------------------

  function confirmAction(message) {
    var dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-message").textContent = message;
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          resolve(dialog.returnValue === "confirm");
        },
        { once: true }
      );
      dialog.returnValue = "";
      dialog.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }

  function toggleHelp(show) {
    var overlay = document.getElementById("help-overlay");
    overlay.hidden = show === undefined ? !overlay.hidden : !show;
    if (!overlay.hidden) document.getElementById("help-close").focus();
  }

  // --- controls: confirmed, then POSTed to the REST API with the CSRF token ------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function showAccountStatus(status) {
    var badge = document.getElementById("account-status");
    if (!badge) return;
    badge.dataset.status = status;
    badge.className = "badge status-" + status;
    badge.textContent = label("account_status", status);
    var pause = document.getElementById("pause-button");
    var resume = document.getElementById("resume-button");
    var kill = document.getElementById("kill-button");
    if (pause) pause.disabled = status !== "active";
    if (resume) resume.disabled = status !== "paused";
    if (kill) kill.disabled = status === "halted" || status === "disabled";
  }

  function runControl(button) {
    if (!button || button.disabled) return;
    confirmAction(t(button.dataset.confirm)).then(function (confirmed) {
      if (!confirmed) return;
      button.disabled = true;
      fetch(button.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: button.dataset.body || "{}",
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) {
              var error = (body && body.error) || {};
              throw new Error(error.message || response.statusText);
            }
            return body;
          });
        })
        .then(function (account) {
          showAccountStatus(account.status);
          toast(t("done"));
        })
        .catch(function (error) {
          button.disabled = false;
          toast(t("failed") + " " + error.message);
        });
    });
  }

  document.querySelectorAll("button.control").forEach(function (button) {
    button.addEventListener("click", function () {
      runControl(button);
    });
  });

  // --- keyboard shortcuts: plain keys only, never while typing, never the browser's ------

  var pendingG = false;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    // Ctrl/Cmd/Alt combinations belong to the browser (Ctrl+P, Ctrl+R, ...).
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.key === "Escape") {
      toggleHelp(false);
      return;
    }
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "o") {
        window.location.href = document.getElementById("nav-overview").href;
        event.preventDefault();
      }
      return;
    }
    var handled = true;
    if (key === "?") toggleHelp();
    else if (key === "g") pendingG = true;
    else if (key === "t") toggleTheme();
    else if (key === "l") document.getElementById("language-select").focus();
    else if (key === "p") runControl(document.getElementById("pause-button"));
    else if (key === "r") runControl(document.getElementById("resume-button"));
    else if (key === "x") runControl(document.getElementById("kill-button"));
    else if (/^[1-9]$/.test(key) && document.querySelector('[data-shortcut="' + key + '"]')) {
      window.location.href = document.querySelector('[data-shortcut="' + key + '"]').href;
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // --- charts (lightweight-charts from static/vendor/) -----------------------------

  var charts = [];

  function chartColors() {
    var style = getComputedStyle(root);
    function v(name) {
      return style.getPropertyValue(name).trim();
    }
    return {
      layout: { background: { type: "solid", color: v("--panel") }, textColor: v("--text") },
      grid: { vertLines: { color: v("--chart-grid") }, horzLines: { color: v("--chart-grid") } },
      up: v("--ok"),
      down: v("--bad"),
      accent: v("--accent"),
    };
  }

  function emptyNote(container) {
    container.appendChild(el("p", { className: "empty", text: t(container.dataset.empty) }));
  }

  var candleChart = null;

  function markerFor(fill, candleTimes) {
    // A marker sits on the candle that contains the fill.
    var time = candleTimes[0];
    for (var i = candleTimes.length - 1; i >= 0; i--) {
      if (candleTimes[i] <= fill.time) {
        time = candleTimes[i];
        break;
      }
    }
    var buy = fill.side === "BUY";
    var colors = chartColors();
    return {
      time: time,
      position: buy ? "belowBar" : "aboveBar",
      shape: buy ? "arrowUp" : "arrowDown",
      color: buy ? colors.up : colors.down,
      text: (buy ? "▲ " : "▼ ") + fill.quantity + " @ " + fill.price,
    };
  }

  function drawCharts() {
    var data = readJson("dashboard-chart", null);
    var lib = window.LightweightCharts;
    if (!data || !lib) return;
    var colors = chartColors();
    var options = { autoSize: true, layout: colors.layout, grid: colors.grid, timeScale: { timeVisible: true } };

    var candleBox = document.getElementById("candle-chart");
    if (data.candles.length) {
      var chart = lib.createChart(candleBox, options);
      var series = chart.addSeries(lib.CandlestickSeries, {
        upColor: colors.up, downColor: colors.down, borderVisible: false,
        wickUpColor: colors.up, wickDownColor: colors.down,
      });
      series.setData(
        data.candles.map(function (c) {
          return { time: c.time, open: +c.open, high: +c.high, low: +c.low, close: +c.close };
        })
      );
      var times = data.candles.map(function (c) {
        return c.time;
      });
      var fills = data.markers.slice();
      var markers = lib.createSeriesMarkers(series, fills.map(function (f) {
        return markerFor(f, times);
      }));
      candleChart = {
        symbol: data.symbol,
        addFill: function (fill) {
          fills.push(fill);
          markers.setMarkers(
            fills
              .map(function (f) {
                return markerFor(f, times);
              })
              .sort(function (a, b) {
                return a.time - b.time;
              })
          );
        },
      };
      charts.push(chart);
    } else emptyNote(candleBox);

    var equityBox = document.getElementById("equity-chart");
    if (data.equity.length) {
      var equityChart = lib.createChart(equityBox, options);
      var line = equityChart.addSeries(lib.AreaSeries, {
        lineColor: colors.accent, topColor: colors.accent + "55", bottomColor: colors.accent + "05",
      });
      var points = {};
      data.equity.forEach(function (p) {
        points[p.time] = +p.value; // one point per second, the latest wins
      });
      line.setData(
        Object.keys(points)
          .map(Number)
          .sort(function (a, b) {
            return a - b;
          })
          .map(function (time) {
            return { time: time, value: points[time] };
          })
      );
      equityLine = line;
      charts.push(equityChart);
    } else emptyNote(equityBox);
  }

  var equityLine = null;

  document.addEventListener("dashboard:theme", function () {
    var colors = chartColors();
    charts.forEach(function (chart) {
      chart.applyOptions({ layout: colors.layout, grid: colors.grid });
    });
  });

  // --- rendering live events --------------------------------------------------------

  // Computed prices (averages) arrive with every digit: show the exchange's finest step.
  function price(text) {
    if (typeof text !== "string" || text.indexOf(".") < 0) return text;
    var parts = text.split(".");
    var fraction = parts[1].slice(0, 8).replace(/0+$/, "");
    return fraction ? parts[0] + "." + fraction : parts[0];
  }

  function flash(row) {
    row.classList.remove("flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("flash");
  }

  function cell(text, className, field) {
    var attrs = { text: text == null || text === "" ? "—" : text };
    if (className) attrs.className = className;
    if (field) attrs["data-field"] = field;
    return el("td", attrs);
  }

  function timeCell(value) {
    var iso = typeof value === "number" ? new Date(value).toISOString() : value;
    return el("td", {}, [el("time", { datetime: iso, text: localTime(value) })]);
  }

  function sideCell(side) {
    return cell(label("side", side), "side-" + String(side).toLowerCase());
  }

  function orderStatusCell(status) {
    var td = el("td", { "data-field": "status" });
    td.appendChild(el("span", { className: "badge order-" + status, text: label("order_status", status) }));
    return td;
  }

  function prepend(body, row, limit) {
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > limit) body.deleteRow(body.rows.length - 1);
    flash(row);
  }

  function setField(row, field, value) {
    var target = row.querySelector('[data-field="' + field + '"]');
    if (target) target.textContent = value == null || value === "" ? "—" : value;
  }

  var onAccountPage = {
    order: function (data, event) {
      var body = document.getElementById("orders-body");
      var row = body.querySelector('[data-order-id="' + data.id + '"]');
      if (row) {
        row.replaceChild(orderStatusCell(data.status), row.querySelector('[data-field="status"]'));
        setField(row, "executed_quantity", data.executed_quantity);
        setField(row, "price", data.price);
        setField(row, "stop_price", data.stop_price);
        flash(row);
        return;
      }
      row = el("tr", { "data-order-id": data.id }, [
        timeCell(event.ts_ms),
        cell(data.symbol),
        sideCell(data.side),
        cell(label("intent", data.intent)),
        cell(data.type),
        orderStatusCell(data.status),
        cell(data.quantity, "num", "quantity"),
        cell(data.executed_quantity, "num", "executed_quantity"),
        cell(data.price, "num", "price"),
        cell(data.stop_price, "num", "stop_price"),
      ]);
      prepend(body, row, 25);
    },
    fill: function (data) {
      var body = document.getElementById("fills-body");
      if (body.querySelector('[data-fill-id="' + data.id + '"]')) return;
      var row = el("tr", { "data-fill-id": data.id }, [
        timeCell(data.executed_at),
        cell(data.symbol),
        sideCell(data.side),
        cell(data.price, "num"),
        cell(data.quantity, "num"),
        cell(data.commission + " " + (data.commission_asset || ""), "num"),
      ]);
      prepend(body, row, 25);
      if (candleChart && candleChart.symbol === data.symbol) {
        candleChart.addFill({
          time: Math.floor(new Date(data.executed_at).getTime() / 1000),
          side: data.side, price: data.price, quantity: data.quantity,
        });
      }
    },
    position: function (data) {
      var body = document.getElementById("positions-body");
      var row = body.querySelector('[data-position-id="' + data.id + '"]');
      if (data.status !== "open") {
        if (row) row.remove();
      } else if (row) {
        ["quantity", "stop_price", "realized_pnl"].forEach(function (f) {
          setField(row, f, data[f]);
        });
        setField(row, "average_entry_price", price(data.average_entry_price));
        flash(row);
      } else {
        // A new position: fetch its row as the server renders it (ladder, actions).
        fetch(
          "/dashboard/accounts/" + LIVE.account + "/positions/" + data.id + "/row/",
          { credentials: "same-origin", headers: { Accept: "text/html" } }
        ).then(function (response) {
          return response.ok ? response.text() : null;
        }).then(function (html) {
          if (!html || body.querySelector('[data-position-id="' + data.id + '"]')) return;
          var holder = document.createElement("tbody");
          holder.innerHTML = html.trim();
          var fetched = holder.querySelector("tr");
          if (!fetched) return;
          prepend(body, fetched, 100);
          flash(fetched);
          document.getElementById("positions-empty").hidden = body.rows.length > 0;
        });
      }
      document.getElementById("positions-empty").hidden = body.rows.length > 0;
    },
    account_status: function (data) {
      showAccountStatus(data.status);
    },
    equity: function (data) {
      var figure = document.getElementById("account-equity");
      if (figure) figure.textContent = data.equity;
      if (equityLine) {
        equityLine.update({ time: Math.floor(new Date(data.taken_at).getTime() / 1000), value: +data.equity });
      }
    },
    decision: function (data) {
      var list = document.getElementById("decisions");
      var header = el("header", {}, [
        el("time", { datetime: data.created_at, text: localTime(data.created_at) }),
        el("strong", { text: data.symbol }),
        document.createTextNode(" " + data.interval + " "),
        el("span", { className: "badge signal-" + data.signal, text: data.signal }),
      ]);
      if (data.outcome) header.appendChild(el("span", { className: "badge", text: data.outcome }));
      var item = el("li", { "data-decision-id": data.id }, [header]);
      if (data.reason) item.appendChild(el("p", { className: "reason", text: data.reason }));
      if (data.error) item.appendChild(el("p", { className: "bad", text: data.error }));
      list.insertBefore(item, list.firstChild);
    },
  };

  var onOverview = {
    account_status: function (data, event) {
      var row = document.querySelector('#accounts tr[data-account-id="' + event.account + '"]');
      if (!row) return;
      var badge = row.querySelector('[data-field="status"]');
      badge.className = "badge status-" + data.status;
      badge.textContent = label("account_status", data.status);
      flash(row);
    },
    equity: function (data, event) {
      var row = document.querySelector('#accounts tr[data-account-id="' + event.account + '"]');
      if (!row) return;
      var figure = row.querySelector('[data-field="equity"]');
      var currency = figure.textContent.trim().split(" ").slice(1).join(" ");
      figure.textContent = data.equity + (currency ? " " + currency : "");
      flash(row);
    },
  };

  // --- the live channel -------------------------------------------------------------

  function LiveChannel(handlers) {
    this.handlers = handlers;
    this.seqs = {}; // account id -> the newest sequence number applied
    this.stopped = false;
  }

  LiveChannel.prototype.connect = function () {
    window.spotdeskConnectLive(this, STRINGS); // live_socket.js
  };

  LiveChannel.prototype.onOpen = function () {
    this.start();
  };

  LiveChannel.prototype.send = function (message) {
    this.socket.send(JSON.stringify(message));
  };

  LiveChannel.prototype.start = function () {
    // Resume every account we know a number for; subscribe to the rest.
    var self = this;
    var fresh = [];
    (LIVE.accounts || [LIVE.account]).forEach(function (id) {
      if (id == null) return;
      if (self.seqs[id] !== undefined) self.send({ type: "resume", account: id, after: self.seqs[id] });
      else fresh.push(id);
    });
    if (fresh.length) self.send({ type: "subscribe", accounts: fresh });
  };

  LiveChannel.prototype.receive = function (message) {
    if (message.type === "subscribed") {
      var self = this;
      Object.keys(message.seq).forEach(function (group) {
        var id = Number(group.split(".").pop());
        if (group.indexOf("live.account.") === 0 && self.seqs[id] === undefined) self.seqs[id] = message.seq[group];
      });
    } else if (message.type === "event" && message.account != null) {
      var last = this.seqs[message.account];
      if (last !== undefined && message.seq <= last) return; // seen already
      this.seqs[message.account] = message.seq;
      var handler = this.handlers[message.kind];
      if (handler) handler(message.data, message);
      document.dispatchEvent(new CustomEvent("dashboard:event", { detail: message }));
    } else if (message.type === "resync") {
      // Events we missed are no longer kept: the server renders the page afresh.
      this.stopped = true;
      window.location.reload();
    }
  };

  // --- start ----------------------------------------------------------------------

  document.getElementById("theme-toggle").addEventListener("click", toggleTheme);
  document.getElementById("help-toggle").addEventListener("click", function () {
    toggleHelp();
  });
  document.getElementById("help-close").addEventListener("click", function () {
    toggleHelp(false);
  });
  document.getElementById("language-select").addEventListener("change", function () {
    document.getElementById("language-form").submit();
  });
  showTheme();

  var handlers = PAGE === "account" ? onAccountPage : PAGE === "overview" ? onOverview : null;
  if (handlers && "WebSocket" in window) {
    var channel = new LiveChannel(handlers);
    if (PAGE === "account" && LIVE.account != null) {
      // The page was rendered as of this number: resume from it, so nothing is lost.
      channel.seqs[LIVE.account] = LIVE.after;
    }
    window.spotdeskLive = channel; // for the browser tests and the console
    channel.connect();
  }
  if (PAGE === "account") drawCharts();
})();
