// The dashboard's connection to /ws/live/, shared by the page scripts (dashboard.js,
// backtest.js): reconnects with a doubling delay (1 s up to 15 s), gives up on 4401 /
// 4403 (not signed in, not verified: retrying would not help) or once stopped, and
// keeps the header's live-state indicator current.
(function () {
  "use strict";

  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 15000;

  function showState(state, words) {
    var node = document.getElementById("live-state");
    if (!node) return;
    node.dataset.state = state;
    node.textContent = words[state] || state;
  }

  // owner.onOpen(socket) after every (re)connection, owner.receive(message) for each
  // message; owner.stopped set to true closes for good at the next close; owner.delay
  // is the wait before the next attempt (the browser tests lengthen it).
  function connectLive(owner, words) {
    if (owner.delay === undefined) owner.delay = RETRY_FIRST_MS;
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + "/ws/live/");
      owner.socket = socket;
      socket.onopen = function () {
        owner.delay = RETRY_FIRST_MS;
        showState("live", words);
        owner.onOpen(socket);
      };
      socket.onmessage = function (message) {
        owner.receive(JSON.parse(message.data));
      };
      socket.onclose = function (event) {
        if (event.code === 4401 || event.code === 4403 || owner.stopped) {
          showState("offline", words);
          return;
        }
        showState("reconnecting", words);
        setTimeout(connect, owner.delay);
        owner.delay = Math.min(owner.delay * 2, RETRY_MAX_MS);
      };
    }
    connect();
  }

  window.spotdeskConnectLive = connectLive;
})();
