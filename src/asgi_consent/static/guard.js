/* asgi-consent: the run-time guard. First in <head>, before any page script.

   The server holds back what the HTML holds; this holds back what page code adds later
   (a bundle, a chat widget, a tag manager): elements get the server's inert form
   (data-consent="<categories>", fetching attributes renamed data-consent-<name>, scripts
   typed text/plain), so consent.js wakes them after a choice exactly as it wakes the
   server's, in document order. Requests (fetch, XMLHttpRequest, sendBeacon) and cookie
   writes of a refused category wait in a queue and go out, in order, once it is granted.

   RULES is written in by the server at start-up (guard_rules.py) from the very tables it
   matches with; URLs are read by the browser's own parser. */
(() => {
  "use strict";
  const me = document.currentScript;
  const RULES = /*RULES*/null;
  const INSTALLED = Symbol.for("asgi-consent:guard");
  if (!me || !RULES || Node.prototype[INSTALLED]) { return; }
  Object.defineProperty(Node.prototype, INSTALLED, { value: true });

  const HTML = "http://www.w3.org/1999/xhtml";
  const SVG = "http://www.w3.org/2000/svg";
  const XLINK = "http://www.w3.org/1999/xlink";
  const PREFIX = "data-consent-";
  const NECESSARY = RULES.necessary;
  const EVERY = RULES.categories;
  const RUNNABLE = /^$|^module$|javascript|ecmascript|jscript|livescript/;
  const SPACES = /^[\t\n\f\r ]*$/;
  const words = (value) => (value || "").split(/[\t\n\f\r ]+/).filter(Boolean);

  // cacheable_html: the page is the same for everyone; consent-cache.js, before us in
  // <head>, read the choice from the cookie.
  const cachedGrants = () => {
    const asked = new CustomEvent("asgi-consent:cached-choice", { detail: {} });
    document.dispatchEvent(asked);
    return Array.isArray(asked.detail.granted) ? asked.detail.granted.map(String) : [];
  };
  let granted = new Set(
    me.hasAttribute("data-cached") ? cachedGrants() : words(me.getAttribute("data-granted")),
  );
  const refused = (categories) =>
    categories.some((category) => category !== NECESSARY && !granted.has(category));

  // -- the originals, taken before any page script can change them --------------------

  const N = Node.prototype;
  const E = Element.prototype;
  const own = (proto, name) => Object.getOwnPropertyDescriptor(proto, name);
  const get = E.getAttribute;
  const set = E.setAttribute;
  const remove = E.removeAttribute;
  const hasAttr = E.hasAttribute;
  const selectAll = E.querySelectorAll;
  const selectAllIn = DocumentFragment.prototype.querySelectorAll;
  const innerHTML = own(E, "innerHTML");
  const templateContent = own(HTMLTemplateElement.prototype, "content").get;
  const createElement = Document.prototype.createElement;
  const originalInsert = (name) => own(E, name).value;  // before we wrap them
  const append = originalInsert("append");
  const prepend = originalInsert("prepend");
  const before = originalInsert("before");
  const after = originalInsert("after");
  const replaceChildren = originalInsert("replaceChildren");
  const replaceWith = originalInsert("replaceWith");
  const appendChild = N.appendChild;
  const replaceFragment = DocumentFragment.prototype.replaceChildren;  // a shadow root's

  // -- reading a URL as the server does (rules.py match_url, then host_categories) -----

  const NETWORK = new Set(["http:", "https:", "ws:", "wss:", "ftp:"]);
  const tables = RULES.urls.map((pairs) => new Map(pairs));
  const utf8 = new TextDecoder();
  const HEX = /^[0-9A-Fa-f]{2}$/;

  // Python's unquote(errors="replace"): %XX bytes read as UTF-8, a lone "%" kept.
  const percentDecoded = (text) => {
    if (!text.includes("%")) { return text; }
    const bytes = [];
    for (let i = 0; i < text.length; i++) {
      const pair = text.slice(i + 1, i + 3);
      if (text[i] === "%" && HEX.test(pair)) { bytes.push(parseInt(pair, 16)); i += 2; }
      else { bytes.push(...new TextEncoder().encode(text[i])); }
    }
    return utf8.decode(new Uint8Array(bytes));
  };

  // (host, path-and-query), as urls.match_parts: "?" with an empty query stays.
  const matchParts = (url) => {
    if (!NETWORK.has(url.protocol) || !url.hostname) { return null; }
    const hash = url.href.indexOf("#");
    const bare = hash < 0 ? url.href : url.href.slice(0, hash);
    const target = url.pathname + (url.search || (bare.endsWith("?") ? "?" : ""));
    return [url.hostname.replace(/\.+$/, ""), percentDecoded(target).toLowerCase()];
  };

  const suffixes = (host) => {
    const labels = host.split(".");
    const out = [];
    for (let start = 0; start < labels.length - 1; start++) { out.push(labels.slice(start).join(".")); }
    return out;
  };

  const matchUrl = (host, path) => {
    for (const table of tables) {
      for (const suffix of suffixes(host)) {
        for (const [prefix, category] of table.get(suffix) || []) {
          if (path.startsWith(prefix)) { return category; }
        }
      }
    }
    return null;
  };

  const hostCategories = (host) => {
    const found = new Set();
    for (const suffix of suffixes(host)) {
      for (const table of tables) {
        for (const [, category] of table.get(suffix) || []) { found.add(category); }
      }
    }
    return [...found];
  };

  // -- inline code, as rules.inline_categories (markers and tracker hosts named in it) --

  const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const hostCategory = new Map(RULES.hosts);
  const hostNames = RULES.hosts.length
    ? new RegExp(`(?<![a-z0-9-])(?:${RULES.hosts.map(([h]) => escaped(h)).join("|")})(?![a-z0-9-])`, "g")
    : null;
  const JS_ESCAPE = /\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|u\{([0-9a-f]{1,6})\}|([\s\S]))/g;
  const unescapeOne = (_, x, u, braced, other) => {
    if (other !== undefined) { return other; }
    const code = parseInt(x || u || braced, 16);
    return code < 0x110000 ? String.fromCodePoint(code) : "?";
  };

  // One pass over the code first: most inline code names no marker and no host at all.
  const literals = [...RULES.markers.map(([m]) => m), ...RULES.hosts.map(([h]) => h)];
  const anyLiteral = literals.length ? new RegExp(literals.map(escaped).join("|")) : null;

  const inlineCategories = (code) => {
    const raw = String(code).toLowerCase();
    const texts = raw.includes("\\") ? [raw, raw.replace(JS_ESCAPE, unescapeOne)] : [raw];
    if (!texts.some((text) => anyLiteral && anyLiteral.test(text))) { return []; }
    const found = new Set();
    for (const text of texts) {
      for (const [marker, category] of RULES.markers) {
        if (text.includes(marker)) { found.add(category); }
      }
      if (hostNames) {
        for (const hit of text.matchAll(hostNames)) { found.add(hostCategory.get(hit[0])); }
      }
    }
    return [...found];
  };

  const dataCategories = (href) => {
    const comma = href.indexOf(",");
    if (comma < 0) { return EVERY; }
    let body = percentDecoded(href.slice(comma + 1));
    if (/;\s*base64\s*$/i.test(href.slice(0, comma))) {
      try { body = atob(body.replace(/[\t\n\f\r ]/g, "")); } catch { return EVERY; }
    }
    return inlineCategories(body);
  };

  // Any entry on this host or a parent domain? Most URLs a page adds are on hosts no
  // entry names: settled here, without reading their path (fetching.py does the same).
  const knownHosts = new Set(tables.flatMap((table) => [...table.keys()]));
  const knows = (host) => {
    for (let at = 0; ;) {
      const dot = host.indexOf(".", at);
      if (dot < 0) { return false; }
      if (knownHosts.has(at ? host.slice(at) : host)) { return true; }
      at = dot + 1;
    }
  };

  /** The categories a URL as written needs (fetching.py _resolved_categories). */
  const readUrl = (value, hostOnly) => {
    let url;
    try { url = new URL(value, document.baseURI); } catch { return SPACES.test(value) ? [] : EVERY; }
    if (url.protocol === "javascript:") { return inlineCategories(percentDecoded(url.href.slice(11))); }
    if (url.protocol === "data:") { return dataCategories(url.href); }
    if (!NETWORK.has(url.protocol) || !knows(url.hostname.replace(/\.+$/, ""))) { return []; }
    const parts = matchParts(url);
    if (parts === null) { return []; }
    const found = hostOnly ? null : matchUrl(parts[0], parts[1]);
    return found ? [found] : hostCategories(parts[0]);
  };

  // Pages repeat their URLs: up to 512 verdicts kept while the base URL stays the same.
  const verdicts = new Map();
  let verdictsFor = "";
  const urlCategories = (text, hostOnly = false) => {
    const value = String(text);
    const base = document.baseURI;
    if (base !== verdictsFor || verdicts.size >= 512) { verdicts.clear(); verdictsFor = base; }
    const key = (hostOnly ? "h" : "u") + value;
    let found = verdicts.get(key);
    if (found === undefined) {
      found = readUrl(value, hostOnly);
      if (value.length <= 256) { verdicts.set(key, found); }
    }
    return found;
  };

  // A srcset split on commas and spaces: more pieces than the real parser finds, never
  // fewer, so a tracker URL is always one of them (a descriptor reads as a path).
  const srcsetCategories = (value) =>
    [...new Set(String(value).split(/[\s,]+/).filter(Boolean).flatMap((u) => urlCategories(u)))];

  const cookieExact = new Map(RULES.cookies[0]);
  const cookieCategory = (name) => {
    const found = cookieExact.get(name);
    if (found) { return found; }
    for (const [prefix, category] of RULES.cookies[1]) {
      if (name.startsWith(prefix)) { return category; }
    }
    return null;
  };

  // -- elements --------------------------------------------------------------------------

  const htmlAttributes = new Map(RULES.elements.html);
  const svgAttributes = RULES.elements.svg;
  const SRCSET = new Set(RULES.elements.srcset);
  // <style>: no fetching attribute, but its CSS fetches (@import, url()).
  const SELECTOR = [...htmlAttributes.keys(), "style", "svg *"].join(",");
  const CONNECT = /(^|\s)(preconnect|dns-prefetch)(\s|$)/i;
  const held = new Set();  // elements we made inert, until their categories are granted

  const fetchingAttributes = (el) =>
    el.namespaceURI === SVG ? svgAttributes
      : el.namespaceURI === HTML ? htmlAttributes.get(el.localName) : undefined;

  const read = (el, name) =>
    name === "xlink:href" ? el.getAttributeNS(XLINK, "href") : get.call(el, name);

  const isScript = (el) => el.localName === "script" && (el.namespaceURI === HTML || el.namespaceURI === SVG);
  const isStyle = (el) => el.localName === "style" && (el.namespaceURI === HTML || el.namespaceURI === SVG);
  const runs = (el) => RUNNABLE.test((get.call(el, "type") || "").trim().toLowerCase());

  // A document written in an attribute (iframe srcdoc) loads with no guard of its own:
  // it needs whatever its elements would need (nested srcdoc included).
  const DOCUMENTS = new Set(RULES.elements.documents);
  const markupCategories = (text) => {
    if (!FETCHING_TAG.test(text)) { return []; }
    const found = new Set();
    for (const el of selectAllIn.call(parse(text), SELECTOR)) {
      required(el, fetchingAttributes(el)).forEach((c) => found.add(c));
    }
    return [...found];
  };

  const valueCategories = (el, name, value) => {
    if (SRCSET.has(name)) { return srcsetCategories(value); }
    if (DOCUMENTS.has(name)) { return markupCategories(String(value)); }
    const hostOnly = el.localName === "link" && CONNECT.test(get.call(el, "rel") || "");
    return urlCategories(value, hostOnly);
  };

  // What one element needs: its URLs, its code (an inline script), the page's own mark.
  const required = (el, attributes) => {
    const found = new Set(words(get.call(el, "data-consent")));
    for (const name of attributes || []) {
      const value = read(el, name);
      if (value !== null) { valueCategories(el, name, value).forEach((c) => found.add(c)); }
    }
    if ((isScript(el) && !hasAttr.call(el, "src") && read(el, "href") === null) || isStyle(el)) {
      inlineCategories(el.textContent).forEach((c) => found.add(c));  // a style's CSS too
    }
    found.delete(NECESSARY);
    return [...found];
  };

  const rename = (el, name) => {
    const value = read(el, name);
    if (value === null) { return; }
    set.call(el, PREFIX + name, value);
    if (name === "xlink:href") { el.removeAttributeNS(XLINK, "href"); } else { remove.call(el, name); }
  };

  // The server's inert form (tagdecision.py _hold): the mark first, then the type, then
  // every fetching attribute renamed.
  const hold = (el, categories, attributes) => {
    set.call(el, "data-consent", [...categories].sort().join(" "));
    if (isScript(el)) {
      const type = get.call(el, "type");
      if (type !== null && !hasAttr.call(el, PREFIX + "type")) { set.call(el, PREFIX + "type", type); }
      set.call(el, "type", "text/plain");
    }
    for (const name of attributes || []) { rename(el, name); }
    held.add(el);
  };

  // A <style> as the server holds it (tagdecision.py _stash_css): typed text/plain, its CSS
  // kept in data-consent-css (Chromium fetches an @import whatever the type), none left in it.
  const textContent = own(N, "textContent").set;
  const checkStyle = (el) => {
    const categories = required(el, []);
    if (!refused(categories)) { return false; }
    set.call(el, "data-consent", [...categories].sort().join(" "));
    const type = get.call(el, "type");
    if (type !== null && !hasAttr.call(el, PREFIX + "type")) { set.call(el, PREFIX + "type", type); }
    set.call(el, "type", "text/plain");
    set.call(el, "data-consent-css", el.textContent);
    textContent.call(el, "");
    held.add(el);
    return true;
  };

  // A srcdoc document is a realm of its own, which no wrapper here reaches: one written
  // at run time gets this guard first, as the server gives one written in the page
  // (the visitor's state now, the nonce; consent.js tells it of a grant).
  const escapeAttr = (text) =>
    String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  const frameGuard = () => `<script src="${escapeAttr(me.src)}" data-granted="${
    escapeAttr([...granted].join(" "))}"${me.nonce ? ` nonce="${escapeAttr(me.nonce)}"` : ""}><\/script>`;  // escaped: this file never holds an end tag
  const isFrameDocument = (el, name) =>
    name === "srcdoc" && el.localName === "iframe" && el.namespaceURI === HTML;
  const guardedFrame = (value) => {
    const text = String(value);
    return text.startsWith(`<script src="${escapeAttr(me.src)}"`) ? text : frameGuard() + text;
  };
  // An iframe made by markup as text or another document, before it joins: true if its
  // srcdoc was given the guard.
  const guardFrame = (el) => {
    if (el.isConnected || !isFrameDocument(el, "srcdoc") || !hasAttr.call(el, "srcdoc")) { return false; }
    const value = get.call(el, "srcdoc");
    const guarded = guardedFrame(value);
    if (guarded === value) { return false; }
    set.call(el, "srcdoc", guarded);
    return true;
  };

  // `parsed`: made by the fragment parser (innerHTML...), whose scripts never run.
  const checkElement = (el, parsed) => {
    if (isStyle(el)) { return checkStyle(el); }
    const attributes = fetchingAttributes(el);
    if (!attributes) { return false; }  // every script element has some: src or href
    const script = isScript(el);
    if (script && (parsed || !runs(el))) { return false; }
    const categories = required(el, attributes);
    if (!refused(categories)) { return guardFrame(el); }
    hold(el, categories, attributes);
    return true;
  };

  const checkTree = (node, parsed, deep) => {
    let any = false;
    if (node.nodeType === 1) {
      any = checkElement(node, parsed);
      if (!deep || !node.firstElementChild) { return any; }
      for (const el of selectAll.call(node, SELECTOR)) { any = checkElement(el, parsed) || any; }
    } else if (node.nodeType === 11) {
      for (const el of selectAllIn.call(node, SELECTOR)) { any = checkElement(el, parsed) || any; }
    }
    return any;
  };

  // A node joining the live document is read whole; one added to a detached tree only
  // itself (its subtree is read when the tree goes live: linear, not once per level).
  const guardOne = (original) => function (node) {
    if (node !== null && typeof node === "object" && node.nodeType <= 11) {
      checkTree(node, false, this.isConnected);
    }
    return original.apply(this, arguments);
  };
  const guardInsert = (original, from) => function (...args) {
    const deep = (this instanceof Range ? this.startContainer : this).isConnected;
    for (let i = from; i < args.length; i++) {
      const node = args[i];
      if (node !== null && typeof node === "object" && "nodeType" in node) { checkTree(node, false, deep); }
    }
    return original.apply(this, args);
  };

  const patch = (proto, name, wrap) => {
    const original = proto && Object.prototype.hasOwnProperty.call(proto, name) ? proto[name] : null;
    if (typeof original === "function") { proto[name] = wrap(original); }
  };
  // A node made from another document's: an image starts loading when it is made.
  for (const name of ["importNode", "adoptNode"]) {
    patch(Document.prototype, name, (original) => function (...args) {
      const node = original.apply(this, args);
      if (node && typeof node === "object") { checkTree(node, true, true); }
      return node;
    });
  }
  for (const [proto, names, from] of [
    [N, ["appendChild", "insertBefore", "replaceChild"], -1],
    [E, ["append", "prepend", "before", "after", "replaceWith", "replaceChildren"], 0],
    [E, ["insertAdjacentElement"], 1],
    [CharacterData.prototype, ["before", "after", "replaceWith"], 0],
    [DocumentType.prototype, ["before", "after", "replaceWith"], 0],
    [Document.prototype, ["append", "prepend", "replaceChildren"], 0],
    [DocumentFragment.prototype, ["append", "prepend", "replaceChildren"], 0],
    [Range.prototype, ["insertNode"], 0],
  ]) {
    for (const name of names) {
      patch(proto, name, (original) => (from < 0 ? guardOne(original) : guardInsert(original, from)));
    }
  }

  // -- attributes and properties that fetch ---------------------------------------------

  const guards = (el, name) => {
    const attributes = fetchingAttributes(el);
    return attributes !== undefined && attributes.includes(name);
  };

  // Setting `name` to `value` on `el`: true when it was held back instead.
  const holdAttribute = (el, name, value) => {
    if (isScript(el) && !runs(el)) { return false; }
    const categories = new Set([...required(el, fetchingAttributes(el)), ...valueCategories(el, name, value)]);
    categories.delete(NECESSARY);
    if (!refused([...categories])) { return false; }
    hold(el, categories, fetchingAttributes(el));
    set.call(el, PREFIX + name, value);
    return true;
  };

  E.setAttribute = function setAttribute(name, value) {
    const lower = String(name).toLowerCase();
    if (guards(this, lower) && holdAttribute(this, lower, String(value))) { return undefined; }
    return set.call(this, name, isFrameDocument(this, lower) ? guardedFrame(value) : value);
  };
  const setNS = E.setAttributeNS;
  E.setAttributeNS = function setAttributeNS(namespace, name, value) {
    const local = String(name).split(":").pop();
    const named = namespace === XLINK && local === "href" ? "xlink:href" : namespace ? null : String(name);
    if (named && guards(this, named) && holdAttribute(this, named, String(value))) { return undefined; }
    return setNS.call(this, namespace, name, value);
  };

  const IDL = { imagesrcset: "imageSrcset" };
  const patchedSetters = new Set();
  for (const [tag, attributes] of htmlAttributes) {
    for (const attribute of attributes) {
      const property = IDL[attribute] || attribute;
      let proto = Object.getPrototypeOf(createElement.call(document, tag));
      while (proto && proto !== HTMLElement.prototype && !own(proto, property)) { proto = Object.getPrototypeOf(proto); }
      const descriptor = proto && proto !== HTMLElement.prototype ? own(proto, property) : null;
      if (!descriptor || !descriptor.set || patchedSetters.has(descriptor.set)) { continue; }
      patchedSetters.add(descriptor.set);
      const original = descriptor.set;
      Object.defineProperty(proto, property, {
        ...descriptor,
        set(value) {
          if (guards(this, attribute) && holdAttribute(this, attribute, String(value))) { return; }
          original.call(this, isFrameDocument(this, attribute) ? guardedFrame(value) : value);
        },
      });
    }
  }

  // -- markup as text: innerHTML, outerHTML, insertAdjacentHTML, document.write ---------

  // Parsed in a <template>: its content is inert (nothing loads, nothing runs) and the
  // page's scripting flag holds (<noscript> stays text). Contexts a template does not
  // parse the same way are left to the page's own call, then read at once.
  const TEMPLATE_DIFFERS = new Set([
    "html", "head", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption",
    "colgroup", "col", "select", "option", "optgroup", "frameset", "template", "script",
    "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext",
  ]);
  const sameParse = (context) =>
    context !== null && context.namespaceURI === HTML && !TEMPLATE_DIFFERS.has(context.localName);

  const parse = (text) => {
    const template = createElement.call(document, "template");
    innerHTML.set.call(template, text);
    return templateContent.call(template);
  };

  // `insert(fragment)` puts the held fragment in place; `write()` does the page's call.
  // Only markup that names an element which fetches needs reading (the tokenizer ends a
  // tag name at whitespace, "/" or ">", and lower-cases ASCII letters only).
  const FETCHING_TAG = new RegExp(
    `<(?:${[...htmlAttributes.keys(), "style", "svg"].join("|")})[\\t\\n\\f\\r />]`, "i");

  // `scope`: where the page's own call puts the nodes, read at once after it.
  const markup = (value, context, parsed, insert, write, scope = context) => {
    const text = typeof value === "string" ? value : String(value);
    if (!FETCHING_TAG.test(text)) { return write(); }
    const fragment = parse(text);
    if (!checkTree(fragment, parsed, true)) { return write(); }
    if (sameParse(context)) { return insert(fragment); }
    const result = write();
    if (scope) { checkTree(scope, parsed, true); }
    return result;
  };

  Object.defineProperty(E, "innerHTML", {
    ...innerHTML,
    set(value) {
      markup(value, this, true, (f) => replaceChildren.call(this, f), () => innerHTML.set.call(this, value));
    },
  });
  const outerHTML = own(E, "outerHTML");
  Object.defineProperty(E, "outerHTML", {
    ...outerHTML,
    set(value) {
      const parent = this.parentElement;
      markup(value, parent, true, (f) => replaceWith.call(this, f), () => outerHTML.set.call(this, value));
    },
  });
  const insertAdjacentHTML = E.insertAdjacentHTML;
  const ADJACENT = { beforebegin: [true, before], afterbegin: [false, prepend], beforeend: [false, append], afterend: [true, after] };
  E.insertAdjacentHTML = function (position, value) {
    const where = ADJACENT[String(position).toLowerCase()];
    const call = () => insertAdjacentHTML.call(this, position, value);
    if (!where) { return call(); }
    const context = where[0] ? this.parentElement : this;
    return markup(value, context, true, (f) => where[1].call(this, f), call);
  };

  const setHTMLUnsafe = E.setHTMLUnsafe;
  if (typeof setHTMLUnsafe === "function") {
    E.setHTMLUnsafe = function (value) {
      return markup(value, this, true, (f) => replaceChildren.call(this, f),
        () => setHTMLUnsafe.call(this, value));
    };
  }
  const shadowHTML = own(ShadowRoot.prototype, "innerHTML");
  if (shadowHTML && shadowHTML.set) {
    Object.defineProperty(ShadowRoot.prototype, "innerHTML", {
      ...shadowHTML,
      set(value) {
        markup(value, this.host, true, (f) => replaceFragment.call(this, f),
          () => shadowHTML.set.call(this, value), this);
      },
    });
  }

  // document.write: written scripts do run, so they are held too; the held markup is
  // written in their place as text.
  const serialize = (fragment) => {
    const template = createElement.call(document, "template");
    appendChild.call(templateContent.call(template), fragment);
    return innerHTML.get.call(template);
  };
  for (const name of ["write", "writeln"]) {
    patch(Document.prototype, name, (original) => function (...parts) {
      const text = parts.join("");
      if (!FETCHING_TAG.test(text)) { return original.apply(this, parts); }
      const fragment = parse(text);
      if (!checkTree(fragment, false, true)) { return original.apply(this, parts); }
      return original.call(this, serialize(fragment));
    });
  }

  // -- requests and cookies: queued, in order, until their category is granted ----------

  const MAX_WAITING = 500;  // beyond that a request is dropped: never sent early
  const waiting = [];
  const later = (categories, run) => {
    if (waiting.length < MAX_WAITING) { waiting.push([categories, run]); }
  };

  // A request on the page's own host is held only for a path an entry names: the site's
  // own API must keep working when its host also serves a tracker.
  const requestCategories = (target) => {
    let url;
    try { url = new URL(String(target), document.baseURI); } catch { return []; }
    const parts = matchParts(url);
    if (parts === null) { return []; }
    const found = matchUrl(parts[0], parts[1]);
    if (found) { return [found]; }
    return url.host === location.host ? [] : hostCategories(parts[0]);
  };

  const fetch = window.fetch;
  if (typeof fetch === "function") {
    window.fetch = function (input, init) {
      const categories = requestCategories(input instanceof Request ? input.url : input);
      if (!refused(categories)) { return fetch.apply(this, arguments); }
      return new Promise((resolve, reject) => {
        later(categories, () => fetch.call(window, input, init).then(resolve, reject));
      });
    };
  }

  const XHR = XMLHttpRequest.prototype;
  const targets = new WeakMap();
  const open = XHR.open;
  const send = XHR.send;
  XHR.open = function (method, url) {
    targets.set(this, url);
    return open.apply(this, arguments);
  };
  XHR.send = function (body) {
    const categories = requestCategories(targets.get(this));
    if (!refused(categories)) { return send.apply(this, arguments); }
    later(categories, () => send.call(this, body));
    return undefined;
  };

  const beacon = Navigator.prototype.sendBeacon;
  if (typeof beacon === "function") {
    Navigator.prototype.sendBeacon = function (url, data) {
      const categories = requestCategories(url);
      if (!refused(categories)) { return beacon.apply(this, arguments); }
      later(categories, () => beacon.call(navigator, url, data));
      return true;  // "queued", as the browser itself would say
    };
  }

  // The name as the browser reads "name=value; attributes" (no "=": an empty name).
  const cookieName = (text) => {
    const pair = text.split(";")[0];
    const eq = pair.indexOf("=");
    return eq < 0 ? "" : pair.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, "");
  };
  const cookie = own(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    ...cookie,
    set(value) {
      const category = cookieCategory(cookieName(String(value)));
      if (category && refused([category])) {
        later([category], () => cookie.set.call(this, value));
        return;
      }
      cookie.set.call(this, value);
    },
  });
  if (typeof CookieStore === "function") {
    const storeSet = CookieStore.prototype.set;
    CookieStore.prototype.set = function (nameOrOptions, ...rest) {
      const name = typeof nameOrOptions === "object" && nameOrOptions ? nameOrOptions.name : nameOrOptions;
      const category = cookieCategory(String(name));
      if (!category || !refused([category])) { return storeSet.call(this, nameOrOptions, ...rest); }
      return new Promise((resolve, reject) => {
        later([category], () => storeSet.call(this, nameOrOptions, ...rest).then(resolve, reject));
      });
    };
  }

  // -- other fetches page code starts: constructors, event streams, worklets, CSS ---------

  // CSS text as the CSS parser reads it: escapes ("\\2e ", "\\.") are characters.
  const CSS_ESCAPE = /\\([0-9A-Fa-f]{1,6})[\t\n\f\r ]?|\\([\s\S])/g;
  const codePoint = (hex) => {
    const value = parseInt(hex, 16);
    return value > 0 && value <= 0x10ffff && (value < 0xd800 || value > 0xdfff)
      ? String.fromCodePoint(value) : "\ufffd";
  };
  const cssCategories = (text) => {
    const value = String(text);
    const plain = value.includes("\\")
      ? value.replace(CSS_ESCAPE, (_, hex, other) => (hex ? codePoint(hex) : other)) : value;
    return inlineCategories(plain);
  };
  const wrapConstructor = (name, construct) => {
    const Original = window[name];
    if (typeof Original !== "function") { return; }
    window[name] = new Proxy(Original, { construct: (target, args, newTarget) => construct(target, args, newTarget) });
  };

  // new Audio(url) sets its source inside the browser: set it through the guarded setter.
  wrapConstructor("Audio", (target, args, newTarget) => {
    const el = Reflect.construct(target, [], newTarget);
    set.call(el, "preload", "auto");
    if (args.length && args[0] !== undefined) { el.src = args[0]; }
    return el;
  });
  // An event stream of a refused category is not opened (a later one, once granted, is).
  wrapConstructor("EventSource", (target, args, newTarget) => {
    const categories = requestCategories(args[0]);
    if (refused(categories)) { throw new DOMException("held back until consent", "SecurityError"); }
    return Reflect.construct(target, args, newTarget);
  });
  // A font from a refused tracker's URL: the face is made with a source that loads nothing.
  wrapConstructor("FontFace", (target, args, newTarget) => {
    if (args.length > 1 && typeof args[1] === "string" && refused(cssCategories(args[1]))) {
      return Reflect.construct(target, [args[0], 'local("asgi-consent-held")', ...args.slice(2)], newTarget);
    }
    return Reflect.construct(target, args, newTarget);
  });
  if (typeof Worklet === "function") {
    patch(Worklet.prototype, "addModule", (original) => function (url, options) {
      const categories = requestCategories(url);
      if (!refused(categories)) { return original.apply(this, arguments); }
      return new Promise((resolve, reject) => {
        later(categories, () => original.call(this, url, options).then(resolve, reject));
      });
    });
  }
  // Style sheets and style properties written by code: CSS naming a refused tracker is
  // applied once its category is granted.
  const heldCss = (original, answer) => function (text, ...rest) {
    const categories = cssCategories(text);
    if (!refused(categories)) { return original.call(this, text, ...rest); }
    later(categories, () => original.call(this, text, ...rest));
    return answer(this, text, ...rest);
  };
  const ruleIndex = (sheet, text, index) => (index === undefined ? 0 : Number(index) || 0);
  for (const proto of [CSSStyleSheet.prototype, typeof CSSGroupingRule === "function" ? CSSGroupingRule.prototype : null]) {
    patch(proto, "insertRule", (original) => heldCss(original, ruleIndex));
  }
  patch(CSSStyleSheet.prototype, "addRule", (original) => heldCss(original, () => -1));
  patch(CSSStyleSheet.prototype, "replaceSync", (original) => heldCss(original, () => undefined));
  patch(CSSStyleSheet.prototype, "replace", (original) => function (text) {
    const categories = cssCategories(text);
    if (!refused(categories)) { return original.call(this, text); }
    return new Promise((resolve, reject) => {
      later(categories, () => original.call(this, text).then(resolve, reject));
    });
  });
  const Style = CSSStyleDeclaration.prototype;
  patch(Style, "setProperty", (original) => function (name, value, ...rest) {
    const categories = cssCategories(value);
    if (!refused(categories)) { return original.call(this, name, value, ...rest); }
    later(categories, () => original.call(this, name, value, ...rest));
    return undefined;
  });
  // The properties whose values can hold a url() or image-set(), in both spellings, where
  // they are accessors (Firefox); Chromium reads named properties through an interceptor
  // no script can wrap, so there only cssText and setProperty are guarded.
  const URL_PROPERTIES = [
    "cssText", "background", "background-image", "border-image", "border-image-source",
    "list-style", "list-style-image", "content", "cursor", "mask", "mask-image",
    "mask-border", "mask-border-source", "shape-outside", "filter", "clip-path",
    "offset-path", "marker", "marker-start", "marker-mid", "marker-end", "src",
    "-webkit-mask", "-webkit-mask-image", "-webkit-mask-box-image",
    "-webkit-mask-box-image-source", "-webkit-border-image", "-webkit-box-reflect",
  ];
  const camel = (name) => name.replace(/^-webkit-/, "webkit-").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  for (const name of new Set(URL_PROPERTIES.flatMap((n) => [n, camel(n)]))) {
    const descriptor = own(Style, name);
    if (!descriptor || !descriptor.set) { continue; }
    const original = descriptor.set;
    Object.defineProperty(Style, name, {
      ...descriptor,
      set(value) {
        const categories = cssCategories(value);
        if (!refused(categories)) { original.call(this, value); return; }
        later(categories, () => original.call(this, value));
      },
    });
  }

  // -- a choice: consent.js tells us before it wakes anything ---------------------------

  // Elements that are not in the page cannot be woken by consent.js: put back here, so
  // `new Image().src = ...` loads and a detached script runs once it is added.
  const release = (el) => {
    for (const name of fetchingAttributes(el) || []) {
      const value = get.call(el, PREFIX + name);
      if (value === null) { continue; }
      remove.call(el, PREFIX + name);
      if (name === "xlink:href") { setNS.call(el, XLINK, name, value); } else { set.call(el, name, value); }
    }
    if (isScript(el)) {
      const type = get.call(el, PREFIX + "type");
      remove.call(el, PREFIX + "type");
      if (type !== null) { set.call(el, "type", type); } else { remove.call(el, "type"); }
    }
  };

  document.addEventListener("asgi-consent:grant", (event) => {
    if (!Array.isArray(event.detail)) { return; }
    granted = new Set(event.detail.map(String));
    for (const el of [...held]) {
      if (refused(words(get.call(el, "data-consent")))) { continue; }
      held.delete(el);
      if (!el.isConnected) { release(el); }
    }
    const due = waiting.splice(0);
    for (const [categories, run] of due) {
      if (refused(categories)) { waiting.push([categories, run]); continue; }
      try { run(); } catch { /* the page's own call failing is the page's business */ }
    }
  });
})();
