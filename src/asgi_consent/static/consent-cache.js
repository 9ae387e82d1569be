/* asgi-consent, cacheable_html: the page is the same for every visitor, so the choice is
   read here, from the consent cookie, before anything is painted. First in <head>,
   synchronous and tiny.

   A decided visitor's <html> gets data-asgi-consent="decided" (an attribute: page scripts
   that set className wholesale leave it alone): consent-cache.css, linked right after this
   script and so render-blocking, hides the banner for it. consent.js asks for the granted
   categories with the event "asgi-consent:cached-choice" and wakes them as after a choice
   made in the page.

   The cookie's signature cannot be checked here (the key stays on the server). A forged
   cookie only changes what this visitor's own browser runs; the server still holds
   everything back in the HTML and filters Set-Cookie by the verified choice. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) { return; }
  var words = function (text) { return (text || "").split(" ").filter(Boolean); };
  var name = me.getAttribute("data-cookie") || "";
  var revision = me.getAttribute("data-revision");
  var maxAge = Number(me.getAttribute("data-max-age")) || 0;
  var known = words(me.getAttribute("data-categories"));
  var MAX_VALUES = 8;  // as the server: more values of our cookie are no choice at all

  // itsdangerous writes the signing time as big-endian bytes in unpadded base64url.
  var seconds = function (text) {
    var binary;
    try { binary = atob(text.replace(/-/g, "+").replace(/_/g, "/")); } catch (e) { return NaN; }
    var value = 0;
    for (var i = 0; i < binary.length; i++) { value = value * 256 + binary.charCodeAt(i); }
    return binary.length ? value : NaN;
  };

  // c1~<revision>~<category>.<category>~<consent id>~<key tag>.<signed at>.<signature>;
  // g1 instead of c1: grants from an embed's placeholder, the banner's question still
  // open. The key tag must be one of this site's keys' (the signature cannot be checked
  // here): another site's cookie on the parent domain, or a dropped key's, is no choice.
  var keys = words(me.getAttribute("data-keys"));
  var decidedAll = true;
  var ids = [];  // the consent ids of the values read (shown in the settings control)
  var read = function (value) {
    var parts = value.replace(/^"|"$/g, "").split("~");
    if (parts.length !== 5 || (parts[0] !== "c1" && parts[0] !== "g1") || parts[1] !== revision) {
      return null;
    }
    if (!parts[3]) { return null; }
    var tail = parts[4].split(".");
    if (tail.length !== 3 || keys.indexOf(tail[0]) < 0) { return null; }
    // Expired as the server counts it (the browser drops the cookie at its Max-Age too).
    // No "from the future" check here: that guards the server against forged times, and
    // a visitor's clock that runs behind would only bring the banner back.
    var age = Date.now() / 1000 - seconds(tail[1]);
    if (!(age <= maxAge)) { return null; }  // NaN fails too
    if (parts[0] === "g1") { decidedAll = false; }
    ids.push(parts[3]);
    return words(parts[2].replace(/\./g, " ")).filter(function (c) {
      return known.indexOf(c) >= 0;
    });
  };

  // The granted categories in the cookie now, or null for no choice; decidedAll tells
  // whether every value read answered the banner (as the server decides it).
  var choice = function () {
    var values = [];
    decidedAll = true;
    ids = [];
    document.cookie.split(";").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at > 0 && pair.slice(0, at).trim() === name) { values.push(pair.slice(at + 1).trim()); }
    });
    // Several values (a sibling subdomain's on the parent domain): only what all grant.
    var found = null;
    if (values.length > MAX_VALUES) { return null; }
    values.forEach(function (value) {
      var categories = read(value);
      if (categories === null) { return; }
      found = found === null ? categories : found.filter(function (c) {
        return categories.indexOf(c) >= 0;
      });
    });
    if (found !== null && found.indexOf("necessary") < 0) { found.push("necessary"); }
    return found;
  };
  var granted = choice();

  // Google Consent Mode: the default command, as consent-mode.js gives it on a page made
  // for one visitor, from the cookie instead of the server.
  var signals = words(me.getAttribute("data-consent-mode"));
  if (signals.length) {
    window.dataLayer = window.dataLayer || [];
    var state = {};
    signals.forEach(function (pair) {
      var kv = pair.split(":");
      if (kv.length === 2) {
        state[kv[0]] = granted !== null && granted.indexOf(kv[1]) >= 0 ? "granted" : "denied";
      }
    });
    state.wait_for_update = 500;
    (function gtag() { window.dataLayer.push(arguments); })("consent", "default", state);
  }

  if (granted !== null && decidedAll) {
    document.documentElement.setAttribute("data-asgi-consent", "decided");
  }
  // Read again when asked: a choice made in this page since (htmx, Turbo) counts.
  document.addEventListener("asgi-consent:cached-choice", function (event) {
    if (event.detail && typeof event.detail === "object") {
      event.detail.granted = choice();
      event.detail.decided = event.detail.granted !== null && decidedAll;
      // One value: its consent id. Several (a sibling subdomain's too): none is this
      // visitor's alone to quote.
      event.detail.id = ids.length === 1 ? ids[0] : null;
    }
  });
})();
