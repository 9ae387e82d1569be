/* asgi-consent: Microsoft's consent signals, before any Microsoft tag runs.
   UET consent mode: window.uetq.push("consent", "default" | "update", {ad_storage}).
   Clarity: window.clarity("consentv2", {ad_Storage, analytics_Storage}).
   The server writes "signal:category" pairs and the visitor's granted categories on this
   element, so a returning visitor starts with their choice; a choice made in the page
   sends an update (consent.js tells us before it wakes any tag). */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) { return; }
  function words(value) { return (value || "").split(/[\t\n\f\r ]+/).filter(Boolean); }
  function state(pairs, granted) {
    var out = {};
    words(pairs).forEach(function (pair) {
      var kv = pair.split(":");
      if (kv.length === 2) { out[kv[0]] = granted.indexOf(kv[1]) >= 0 ? "granted" : "denied"; }
    });
    return out;
  }
  var uet = me.getAttribute("data-uet");
  var clarity = me.getAttribute("data-clarity");
  function signal(command, granted) {
    if (uet) {
      window.uetq = window.uetq || [];
      window.uetq.push("consent", command, state(uet, granted));
    }
    if (clarity) {
      // Clarity's own snippet keeps this queue when it finds it (c[a]=c[a]||function...).
      window.clarity = window.clarity || function () {
        (window.clarity.q = window.clarity.q || []).push(arguments);
      };
      window.clarity("consentv2", state(clarity, granted));
    }
  }
  // cacheable_html: the page is the same for everyone; consent-cache.js, before us in
  // <head>, read the choice from the cookie.
  function cached() {
    var asked = new CustomEvent("asgi-consent:cached-choice", { detail: {} });
    document.dispatchEvent(asked);
    return Array.isArray(asked.detail.granted) ? asked.detail.granted.map(String) : [];
  }
  signal("default", me.hasAttribute("data-cached") ? cached() : words(me.getAttribute("data-granted")));
  document.addEventListener("asgi-consent:grant", function (event) {
    if (Array.isArray(event.detail)) { signal("update", event.detail.map(String)); }
  });
})();
