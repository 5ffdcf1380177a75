// Runs in <head>, before the first paint: applies the theme the user chose on this
// browser (localStorage). Without a choice, the CSS follows the system's setting.
(function () {
  try {
    var chosen = window.localStorage.getItem("spotdesk.theme");
    if (chosen === "dark" || chosen === "light") {
      document.documentElement.dataset.theme = chosen;
    }
  } catch (e) {
    // Storage may be blocked (privacy settings): the system theme applies.
  }
})();
