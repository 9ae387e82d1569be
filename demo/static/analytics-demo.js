/* The demo's own first-party "analytics". The page marks it data-consent="analytics",
   so the middleware keeps it inert until the visitor allows analytics. When it runs it
   says so in the status box; the inline script after it calls demoAnalytics.track(),
   which only works because consent.js waits for this file before running that one. */
(function () {
  "use strict";
  window.__order = window.__order || [];
  window.__order.push("analytics-demo.js");

  function show(text) {
    var box = document.getElementById("analytics-status");
    if (!box) { return; }
    box.textContent = text;
    box.setAttribute("data-status", "ran");
  }

  window.demoAnalytics = {
    events: [],
    track: function (name) {
      this.events.push(name);
      window.__order.push("track:" + name);
      show("analytics script: ran (events: " + this.events.join(", ") + ")");
    }
  };
  show("analytics script: ran");
})();
