// What every page's script shares: translated words, safe DOM building (text only, never
// HTML), the JSON API with the CSRF header, dates in the agent's zone and the live stream.
"use strict";

window.carebird = (function () {
  var words = {};
  try {
    words = JSON.parse(document.body.dataset.words || "{}");
  } catch (e) {
    words = {};
  }
  var messages = words.messages || {};
  var locale = words.locale || "fr";
  var zone = words.zone || "UTC";

  // gettext for scripts: the catalogue's translation, `%(name)s` filled from `vars`.
  function _(msgid, vars) {
    var text = Object.prototype.hasOwnProperty.call(messages, msgid) ? messages[msgid] : msgid;
    if (vars) {
      text = text.replace(/%\((\w+)\)[sd]/g, function (all, name) {
        return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : all;
      });
    }
    return text;
  }

  var BIDI = /[\u202a-\u202e\u2066-\u2069]/g;
  function visibleBidi(text) {
    return text.replace(BIDI, function (c) {
      return "\u27e8U+" + c.charCodeAt(0).toString(16).toUpperCase() + "\u27e9";
    });
  }

  // el("a", {href: "/x", className: "y", dataset: {id: 1}}, ["text", child]): properties only,
  // so customer text can never become markup.
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null) {
        return;
      }
      if (key === "dataset") {
        Object.keys(value).forEach(function (k) { node.dataset[k] = String(value[k]); });
      } else if (key === "text") {
        // Customer text may carry bidi overrides that reorder what the page shows: each is
        // shown as a marker (as the server's `bidi` filter does) and the node is isolated.
        node.textContent = visibleBidi(String(value));
        node.dir = "auto";
      } else if (key === "attrs") {
        Object.keys(value).forEach(function (k) { node.setAttribute(k, String(value[k])); });
      } else if (key.indexOf("on") === 0 && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else {
        node[key] = value;
      }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) {
        return;
      }
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // fetch JSON; resolves {ok, status, data} (never rejects on HTTP errors); 401 → sign in.
  function api(method, url, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET") {
      init.headers["X-CSRF-Token"] = csrf();
    }
    return fetch(url, init).then(function (r) {
      if (r.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      }
      var type = r.headers.get("content-type") || "";
      var parse = type.indexOf("json") >= 0 ? r.json() : Promise.resolve(null);
      return parse.then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  // Dates with the server's patterns (web/ui/i18n.py DATETIME_PATTERN), in the agent's zone.
  var partsFormat;
  try {
    partsFormat = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
  } catch (e) {
    partsFormat = new Intl.DateTimeFormat("en-GB", {
      timeZone: "UTC", year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function when(iso) {
    if (!iso) {
      return "";
    }
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return "";
    }
    var p = {};
    partsFormat.formatToParts(d).forEach(function (part) { p[part.type] = part.value; });
    var day = Number(p.day), month = Number(p.month), hm = pad(Number(p.hour)) + ":" + p.minute;
    if (locale === "fr") {
      return pad(day) + "/" + pad(month) + "/" + p.year + " " + hm;
    }
    return day + " " + (words.months || [])[month - 1] + " " + p.year + ", " + hm;
  }

  // Same buckets as the server's `duration` filter.
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) {
      return _("< 1 min");
    }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return _("%(n)s min", { n: minutes });
    }
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) {
      return _("%(h)s h %(m)s", { h: hours, m: pad(minutes) });
    }
    return _("%(d)s d %(h)s h", { d: Math.floor(hours / 24), h: hours % 24 });
  }

  function number(n) {
    return new Intl.NumberFormat(locale === "fr" ? "fr-FR" : "en-GB").format(n);
  }

  function money(amount, currency) {
    return new Intl.NumberFormat(locale === "fr" ? "fr-FR" : "en-GB", {
      style: "currency", currency: currency || "USD", maximumFractionDigits: 3
    }).format(amount);
  }

  function label(table, code) {
    var names = words[table] || {};
    return Object.prototype.hasOwnProperty.call(names, code) ? names[code] : String(code);
  }

  // One EventSource per page; the browser resends Last-Event-ID when it reconnects.
  var source = null;
  var listeners = [];
  var stateListeners = [];
  // The live events' kinds, as the server declares them (carebird.live.events.KINDS, given
  // to every page); `reset` ("reload everything") and `message` belong to the stream itself.
  var LIVE_TYPES = (function () {
    var kinds = [];
    try {
      kinds = JSON.parse(document.body.getAttribute("data-live-kinds") || "[]");
    } catch (e) {
      kinds = [];
    }
    return kinds.concat(["reset", "message"]);
  })();

  function dispatch(type, raw) {
    var data = null;
    try {
      data = raw ? JSON.parse(raw) : null;
    } catch (e) {
      data = null;
    }
    listeners.forEach(function (fn) { fn(type, data || {}); });
    if (type === "agent.status" && data) {
      showMyStatus(data);
    }
  }

  // The header's status form follows a change made elsewhere (a supervisor, another tab).
  function showMyStatus(data) {
    var form = document.querySelector("form.my-status");
    if (!form || data.agent_id !== Number(document.body.dataset.agentId || 0)) {
      return;
    }
    form.dataset.status = data.status;
    form.querySelector("select[name=status]").value = data.status;
  }

  // A deadline warned or breached on a case of a team this agent leads (`sla.alert`).
  function slaAlert(type, data) {
    var me = Number(document.body.getAttribute("data-agent-id"));
    if (type !== "sla.alert" || !me || Number(data.lead_id) !== me) {
      return;
    }
    var targets = {
      first_response: _("first response"),
      next_response: _("next response"),
      resolution: _("resolution")
    };
    var words = { id: Number(data.case_id), target: targets[data.target] || "" };
    notify(data.state === "sla_breached"
      ? _("SLA breached on case #%(id)s (%(target)s)", words)
      : _("SLA warning on case #%(id)s (%(target)s)", words),
    data.state === "sla_breached" ? "error" : "info");
  }

  function live(onEvent, onState) {
    if (!listeners.length) {
      listeners.push(slaAlert);
    }
    listeners.push(onEvent);
    if (onState) {
      stateListeners.push(onState);
    }
    if (source || typeof EventSource === "undefined") {
      return;
    }
    source = new EventSource("/api/events/stream");
    LIVE_TYPES.forEach(function (type) {
      source.addEventListener(type, function (ev) { dispatch(ev.type, ev.data); });
    });
    source.onopen = function () { stateListeners.forEach(function (fn) { fn("open"); }); };
    source.onerror = function () { stateListeners.forEach(function (fn) { fn("error"); }); };
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return pad16(x); }).join("");
  }

  function pad16(x) { return (x < 16 ? "0" : "") + x.toString(16); }

  // A short message at the bottom of the screen (role=status, read by screen readers).
  function notify(text, kind) {
    var box = document.getElementById("toasts");
    if (!box) {
      box = el("div", { id: "toasts", className: "toasts", attrs: { role: "status" } });
      document.body.appendChild(box);
    }
    var item = el("p", { className: "toast " + (kind || "info"), text: text });
    box.appendChild(item);
    window.setTimeout(function () { item.remove(); }, 6000);
  }

  // An API error in the agent's words (the server's detail stays in English, shown small).
  function problem(result) {
    var kinds = {
      400: _("The request was refused."),
      403: _("Your role does not allow this."),
      404: _("Not found: it may have been merged or removed."),
      409: _("Someone else changed this first."),
      422: _("Please check what you entered."),
      429: _("Too many attempts: wait a moment.")
    };
    var text = kinds[result.status] || _("Something went wrong. Try again.");
    var detail = result.data && result.data.detail;
    if (typeof detail === "string" && detail) {
      text += " (" + detail + ")";
    }
    return text;
  }

  function isTyping(ev) {
    var t = ev.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  return {
    _: _, el: el, visibleBidi: visibleBidi, api: api, when: when, duration: duration, number: number, money: money,
    label: label, live: live, uuid: uuid, notify: notify, problem: problem,
    isTyping: isTyping, csrf: csrf, locale: locale, zone: zone,
    agentId: Number(document.body.dataset.agentId || 0),
    role: document.body.dataset.agentRole || ""
  };
})();
