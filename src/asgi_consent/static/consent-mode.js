/* asgi-consent: Google Consent Mode v2 default, before any Google tag runs.
   The state comes from the server, so a returning visitor starts with their choice. */
(function () {
  "use strict";
  var me = document.currentScript;
  window.dataLayer = window.dataLayer || [];
  function gtag() { window.dataLayer.push(arguments); }
  var state = {};
  (me && me.getAttribute("data-consent-state") || "").split(" ").forEach(function (pair) {
    var kv = pair.split(":");
    if (kv.length === 2) { state[kv[0]] = kv[1] === "granted" ? "granted" : "denied"; }
  });
  state.wait_for_update = 500;
  gtag("consent", "default", state);
})();
