// Exports of the account page. CSV links stream as plain downloads. XLSX and PDF are
// fetched: a small export comes back as the file; a large one as 202 with a job whose
// progress is polled until the file can be downloaded.
(function () {
  "use strict";
  var box = document.getElementById("exports");
  if (!box) return;
  var progress = document.getElementById("export-progress");
  var bar = document.getElementById("export-progress-bar");
  var text = document.getElementById("export-progress-text");
  var POLL_MS = 700;

  function say(message, done, total) {
    progress.hidden = false;
    text.textContent = message;
    if (total) {
      bar.max = total;
      bar.value = done;
    }
  }

  function filenameOf(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : "export";
  }

  function save(href, name) {
    var link = document.createElement("a");
    link.href = href;
    if (name) link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function poll(job) {
    fetch(job.status_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (state) {
        if (state.status === "done") {
          say(box.dataset.ready, state.total, state.total || 1);
          save(state.download_url, "");
        } else if (state.status === "failed") {
          say(box.dataset.failed);
        } else {
          say(
            box.dataset.progress.replace("%(done)s", state.done).replace("%(total)s", state.total),
            state.done,
            state.total
          );
          window.setTimeout(function () { poll(job); }, POLL_MS);
        }
      })
      .catch(function () { say(box.dataset.failed); });
  }

  function start(link) {
    say(box.dataset.preparing);
    fetch(link.href, { credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 202) return response.json().then(poll);
        if (!response.ok) throw new Error(String(response.status));
        var name = filenameOf(response);
        return response.blob().then(function (blob) {
          var url = URL.createObjectURL(blob);
          save(url, name);
          window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
          say(box.dataset.ready, 1, 1);
        });
      })
      .catch(function () { say(box.dataset.failed); });
  }

  box.addEventListener("click", function (event) {
    var link = event.target.closest("a.export-link");
    if (!link || link.dataset.format === "csv") return; // CSV: the browser streams it
    event.preventDefault();
    start(link);
  });
})();
