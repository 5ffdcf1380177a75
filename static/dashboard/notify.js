// Browser notifications for fills and alerts arriving on the live channel, opt-in: the
// toggle asks for permission and the choice is remembered per user in localStorage.
(function () {
  "use strict";
  var button = document.getElementById("notify-toggle");
  if (!button || !("Notification" in window)) return; // the browser has none: no toggle
  var KEY = "spotdesk.notifications." + button.dataset.user;

  function wanted() {
    try { return window.localStorage.getItem(KEY) === "on"; } catch (e) { return false; }
  }

  function remember(on) {
    try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* blocked */ }
  }

  function enabled() {
    return wanted() && Notification.permission === "granted";
  }

  function render() {
    var on = enabled();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? button.dataset.labelOn : button.dataset.labelOff;
  }

  button.hidden = false;
  render();
  button.addEventListener("click", function () {
    if (enabled()) {
      remember(false);
      render();
      return;
    }
    Promise.resolve(Notification.requestPermission()).then(function (permission) {
      remember(permission === "granted");
      if (permission === "denied") button.title = button.dataset.denied;
      render();
    });
  });

  function describe(message) {
    var data = message.data || {};
    if (message.kind === "fill") {
      return {
        title: button.dataset.fill + " · " + data.symbol,
        body: data.side + " " + data.quantity + " @ " + data.price,
        tag: "fill-" + data.id,
      };
    }
    return {
      title: button.dataset.alert + " · " + (data.severity || ""),
      body: data.message || "",
      tag: "alert-" + data.id,
    };
  }

  document.addEventListener("dashboard:event", function (event) {
    var message = event.detail || {};
    if ((message.kind !== "fill" && message.kind !== "alert") || !enabled()) return;
    var shown = describe(message);
    // The tag keeps one notification per fill or alert even if two tabs receive it.
    new Notification(shown.title, { body: shown.body, tag: shown.tag });
  });
})();
