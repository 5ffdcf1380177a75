// The overview's customizable layout: sections marked data-widget can be moved and
// hidden; the layout is saved per user on the server and applied on every load.
(function () {
  "use strict";

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var STRINGS = readJson("extras-strings", {});
  var PREFS = readJson("dashboard-prefs", { layout: {}, urls: {} });

  function t(key) {
    return STRINGS[key] || key;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
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

  if (document.body.dataset.page !== "overview") return;
  var first = document.querySelector("[data-widget]");
  if (!first) return;
  var container = first.parentNode;
  // Only siblings move: a widget nested elsewhere keeps its place.
  var widgets = Array.prototype.filter.call(container.children, function (node) {
    return node.hasAttribute("data-widget");
  });
  var anchor = document.createComment("widgets");
  container.insertBefore(anchor, first);

  var layout = { order: [], hidden: [] };
  var editing = false;

  function byId(id) {
    return widgets.filter(function (w) {
      return w.dataset.widget === id;
    })[0];
  }

  function currentOrder() {
    return Array.prototype.filter
      .call(container.children, function (node) {
        return widgets.indexOf(node) !== -1;
      })
      .map(function (w) {
        return w.dataset.widget;
      });
  }

  function apply(saved) {
    var order = (saved.order || []).filter(byId);
    widgets.forEach(function (w) {
      // Widgets added since the layout was saved keep their default place, at the end.
      if (order.indexOf(w.dataset.widget) === -1) order.push(w.dataset.widget);
    });
    layout = { order: order, hidden: (saved.hidden || []).filter(byId) };
    order
      .slice()
      .reverse()
      .forEach(function (id) {
        container.insertBefore(byId(id), anchor.nextSibling);
      });
    widgets.forEach(function (w) {
      var hidden = layout.hidden.indexOf(w.dataset.widget) !== -1;
      w.classList.toggle("widget-hidden", hidden);
      w.hidden = hidden && !editing;
    });
    refreshTools();
  }

  function save() {
    return fetch(PREFS.urls.layout, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(layout),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
          return body;
        });
      })
      .then(function (body) {
        toast(t("layout_saved"));
        return body;
      })
      .catch(function (error) {
        toast(t("layout_failed") + " " + error.message);
        throw error;
      });
  }

  function move(id, step) {
    var order = currentOrder();
    var at = order.indexOf(id);
    var to = at + step;
    if (at === -1 || to < 0 || to >= order.length) return Promise.resolve();
    order.splice(at, 1);
    order.splice(to, 0, id);
    apply({ order: order, hidden: layout.hidden });
    return save();
  }

  function toggleHidden(id) {
    var hidden = layout.hidden.slice();
    var at = hidden.indexOf(id);
    if (at === -1) hidden.push(id);
    else hidden.splice(at, 1);
    apply({ order: currentOrder(), hidden: hidden });
    return save();
  }

  function tool(action, text, id) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "widget-tool";
    button.dataset.action = action;
    button.textContent = text;
    button.addEventListener("click", function () {
      if (action === "up") move(id, -1);
      else if (action === "down") move(id, 1);
      else toggleHidden(id);
    });
    return button;
  }

  function refreshTools() {
    widgets.forEach(function (w) {
      var old = w.querySelector(":scope > .widget-tools");
      if (old) old.remove();
      if (!editing) return;
      var id = w.dataset.widget;
      var hidden = layout.hidden.indexOf(id) !== -1;
      var tools = document.createElement("div");
      tools.className = "widget-tools";
      tools.appendChild(tool("up", t("move_up"), id));
      tools.appendChild(tool("down", t("move_down"), id));
      tools.appendChild(tool("toggle", hidden ? t("show") : t("hide"), id));
      w.insertBefore(tools, w.firstChild);
    });
  }

  var customize = document.createElement("button");
  customize.type = "button";
  customize.id = "layout-customize";
  customize.className = "layout-customize";
  customize.setAttribute("aria-pressed", "false");
  customize.textContent = t("customize");
  customize.addEventListener("click", function () {
    editing = !editing;
    customize.textContent = editing ? t("customize_done") : t("customize");
    customize.setAttribute("aria-pressed", String(editing));
    container.classList.toggle("customizing", editing);
    apply(layout);
  });
  container.insertBefore(customize, anchor);

  apply(PREFS.layout || {});
  window.spotdeskWidgets = { apply: apply, save: save, move: move, toggleHidden: toggleHidden, order: currentOrder };
})();
