// Voice commands (Web Speech API) on the account page: "pause", "resume", "status" in
// English, Portuguese and Spanish. Pause and resume press the same buttons as a click,
// so the same confirmation dialog asks first. Hidden where the browser has no API.
(function () {
  "use strict";

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }

  var STRINGS = readJson("extras-strings", {});

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

  // Words compared without case or accents ("reanudar", "Pausar", "Status").
  var WORDS = {
    pause: "pause",
    pausar: "pause",
    resume: "resume",
    retomar: "resume",
    reanudar: "resume",
    status: "status",
    estado: "status",
  };
  var BUTTONS = { pause: "pause-button", resume: "resume-button" };

  function normalise(text) {
    return String(text || "")
      .toLowerCase()
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z\s]/g, " ");
  }

  function commandIn(transcript) {
    var words = normalise(transcript).split(/\s+/);
    for (var i = 0; i < words.length; i++) {
      if (WORDS[words[i]]) return WORDS[words[i]];
    }
    return null;
  }

  function announceStatus() {
    var badge = document.getElementById("account-status");
    var equity = document.getElementById("account-equity");
    var text = t("voice_status") + " " + (badge ? badge.textContent.trim() : "?");
    if (equity) text += " · " + equity.textContent.trim();
    toast(text);
    if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = document.documentElement.lang || "en";
      window.speechSynthesis.speak(utterance);
    }
    return text;
  }

  // The one entry for a recognised phrase: the recogniser's onresult calls it, and so
  // can a test. Returns the command acted on, or null.
  function handle(transcript) {
    var command = commandIn(transcript);
    if (!command) {
      toast(t("voice_unknown") + " " + transcript);
      return null;
    }
    if (document.body.classList.contains("offline")) return null;
    if (command === "status") {
      announceStatus();
      return command;
    }
    var button = document.getElementById(BUTTONS[command]);
    if (!button || button.disabled) {
      toast(t("voice_unavailable"));
      return null;
    }
    button.click(); // dashboard.js asks for confirmation before posting
    return command;
  }

  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  var button = document.getElementById("voice-button");
  window.spotdeskVoice = { handle: handle, supported: !!Recognition };
  if (!Recognition || !button || document.body.dataset.page !== "account") return;

  var LANGS = { en: "en-US", "pt-br": "pt-BR", es: "es-ES" };
  var recognizer = null;

  function listen() {
    if (recognizer) {
      recognizer.abort();
      return;
    }
    recognizer = new Recognition();
    recognizer.lang = LANGS[document.documentElement.lang] || document.documentElement.lang || "en-US";
    recognizer.interimResults = false;
    recognizer.maxAlternatives = 1;
    recognizer.onresult = function (event) {
      var result = event.results[event.results.length - 1];
      handle(result[0].transcript);
    };
    recognizer.onerror = function (event) {
      toast(t("voice_error") + " " + event.error);
    };
    recognizer.onend = function () {
      recognizer = null;
      button.setAttribute("aria-pressed", "false");
    };
    button.setAttribute("aria-pressed", "true");
    toast(t("voice_listening"));
    recognizer.start();
  }

  var controls = document.getElementById("controls");
  if (controls) controls.appendChild(button);
  button.hidden = false;
  button.addEventListener("click", listen);
})();
