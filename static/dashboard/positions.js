// Manual actions on the open positions of the account page: close now, move the stop,
// cancel the ladder. Each asks first in the page's confirmation dialog, then posts to the
// REST API with the CSRF token; the API checks the role and the input, and its error
// message stays in the dialog (e.g. "stop_price: ...") so the user can fix it and retry.
(function () {
  "use strict";

  var body = document.getElementById("positions-body");
  var dialog = document.getElementById("confirm-dialog");
  if (!body || !dialog) return;

  var stringsNode = document.getElementById("dashboard-strings");
  var STRINGS = stringsNode ? JSON.parse(stringsNode.textContent) : {};

  function t(key) {
    return STRINGS[key] || key;
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

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function errorNode() {
    var node = document.getElementById("confirm-error");
    if (!node) {
      node = document.createElement("p");
      node.id = "confirm-error";
      node.className = "bad";
      node.setAttribute("role", "alert");
      var buttons = dialog.querySelector(".dialog-buttons");
      buttons.parentNode.insertBefore(node, buttons);
    }
    return node;
  }

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(payload || {}),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!response.ok) {
            var error = (data && data.error) || {};
            throw new Error(error.message || response.statusText);
          }
          return data;
        });
    });
  }

  function stopInput(button) {
    var row = button.closest("tr");
    return row ? row.querySelector(".stop-input") : null;
  }

  function payloadFor(button) {
    if (button.dataset.action !== "move-stop") return {};
    var input = stopInput(button);
    return { stop_price: input ? input.value.trim() : "" };
  }

  function applyResult(button, data) {
    var row = button.closest("tr");
    if (!row) return;
    var action = button.dataset.action;
    var position = action === "close" ? data.position : data;
    if (position && position.status && position.status !== "open") {
      row.remove();
      var empty = document.getElementById("positions-empty");
      if (empty) empty.hidden = body.rows.length > 0;
      return;
    }
    if (action === "move-stop" && position) {
      var stop = row.querySelector('[data-field="stop_price"]');
      if (stop) stop.textContent = position.stop_price || "—";
    } else if (action === "cancel-ladder") {
      button.remove();
    }
  }

  function run(button) {
    var message = t(button.dataset.confirm);
    if (button.dataset.action === "move-stop") {
      var input = stopInput(button);
      if (input && input.value) message += " (" + input.value + ")";
    }
    var ok = document.getElementById("confirm-ok");
    var error = errorNode();
    error.textContent = "";
    error.hidden = true;
    document.getElementById("confirm-message").textContent = message;

    // The confirm button posts instead of closing; the dialog closes on success only.
    function onConfirm(event) {
      event.preventDefault();
      ok.disabled = true;
      post(button.dataset.url, payloadFor(button))
        .then(function (data) {
          dialog.close("confirm");
          applyResult(button, data);
          toast(t("done"));
        })
        .catch(function (failure) {
          error.textContent = t("failed") + " " + failure.message;
          error.hidden = false;
        })
        .then(function () {
          ok.disabled = false;
        });
    }

    ok.addEventListener("click", onConfirm);
    dialog.addEventListener(
      "close",
      function () {
        ok.removeEventListener("click", onConfirm);
        ok.disabled = false;
        error.hidden = true;
      },
      { once: true }
    );
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  }

  body.addEventListener("click", function (event) {
    var button = event.target.closest("button.position-action");
    if (button && !button.disabled) run(button);
  });
})();
