// The inbox: cases by priority from /api/inbox, redrawn when the live stream says something
// changed (no reload), filters and search in the URL, bulk actions, keyboard triage.
// Data only ever reaches the page through textContent (carebird.el), never as HTML.
(function () {
  "use strict";

  var cb = window.carebird;
  var _ = cb._;
  var el = cb.el;
  var list = document.getElementById("inbox");
  if (!list) {
    return;
  }
  var form = document.getElementById("filters");
  var total = document.getElementById("inbox-total");
  var empty = document.getElementById("inbox-empty");
  var bulkBar = document.getElementById("bulk");
  var bulkCount = document.getElementById("bulk-count");
  var selectAll = document.getElementById("select-all");
  var liveState = document.getElementById("live-state");
  var help = document.getElementById("help");
  var canWrite = list.dataset.canWrite === "true";
  var agents = parse(list.dataset.agents);
  var teams = parse(list.dataset.teams);
  var languages = parse(list.dataset.languages);
  var INBOX_KINDS = /^(case|message|reply|reset)/;
  var LIMIT = 50;

  var rows = [];            // the last page, in display order
  var known = null;         // ids drawn before (null until the first draw)
  var fresh = {};           // id → true while a row is highlighted as new
  var currentId = null;     // the keyboard's row
  var selected = {};        // id → true
  var loading = false;
  var again = false;
  var refreshTimer = null;

  function parse(text) {
    try {
      return JSON.parse(text || "{}");
    } catch (e) {
      return {};
    }
  }

  // --- fetching -------------------------------------------------------------------------
  function query() {
    var data = new FormData(form);
    var q = new URLSearchParams();
    var view = data.get("view");
    if (view === "mine") {
      q.set("mine", "true");
    } else if (view === "unassigned") {
      q.set("unassigned", "true");
    }
    ["team_id", "category", "language", "network", "status", "q"].forEach(function (name) {
      var value = String(data.get(name) || "").trim();
      if (value) {
        q.set(name, value);
      }
    });
    return q;
  }

  function pageUrl() {
    var data = new FormData(form);
    var q = new URLSearchParams();
    data.forEach(function (value, name) {
      if (String(value).trim()) {
        q.set(name, String(value).trim());
      }
    });
    var s = q.toString();
    return "/" + (s ? "?" + s : "");
  }

  function load() {
    if (loading) {
      again = true;  // a change arrived mid-flight: fetch once more afterwards
      return;
    }
    loading = true;
    var q = query();
    q.set("limit", String(LIMIT));
    cb.api("GET", "/api/inbox?" + q.toString()).then(function (result) {
      if (result.ok && result.data && Array.isArray(result.data.items)) {
        draw(result.data);
      }
    }).catch(function () { /* offline a moment: the next event or tick retries */ })
      .then(function () {
        loading = false;
        if (again) {
          again = false;
          load();
        }
      });
  }

  function refreshSoon() {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(load, 150);  // coalesce a burst of events into one fetch
  }

  // --- drawing --------------------------------------------------------------------------
  function badge(kind, text, title) {
    return el("span", { className: "badge " + kind, text: text, title: title || null });
  }

  function waitingSeconds(c) {
    if (c.waiting_since) {
      return (Date.now() - new Date(c.waiting_since).getTime()) / 1000;
    }
    if (typeof c.waiting_seconds === "number") {
      return c.waiting_seconds + (Date.now() - c._fetchedAt) / 1000;
    }
    return null;
  }

  function slaText(c) {
    var due = c.due_at || (c.sla && c.sla.due_at);
    if (!due) {
      return null;
    }
    var left = (new Date(due).getTime() - Date.now()) / 1000;
    if (left < 0) {
      return { late: true, text: _("SLA: overdue by %(d)s", { d: cb.duration(-left) }) };
    }
    return { late: false, text: _("SLA: due in %(d)s", { d: cb.duration(left) }) };
  }

  function fillClock(li, c) {
    var waiting = li.querySelector(".waiting");
    var seconds = waitingSeconds(c);
    waiting.textContent = seconds === null ? "" : _("Waiting %(d)s", { d: cb.duration(seconds) });
    var sla = li.querySelector(".sla");
    var s = slaText(c);
    sla.textContent = s ? s.text : "";
    sla.hidden = !s;
    var late = Boolean((s && s.late) || c.breached || (c.sla && c.sla.breached));
    sla.classList.toggle("late", late);
    li.classList.toggle("breached", late);
  }

  function caseItem(c) {
    var id = Number(c.id);
    var pick = el("input", {
      type: "checkbox",
      className: "pick",
      checked: Boolean(selected[id]),
      attrs: { "aria-label": _("Select case %(id)s", { id: id }) },
      onchange: function (ev) {
        toggleSelected(id, ev.target.checked);
      }
    });
    var badges = el("span", { className: "badges" }, [
      badge("network net-" + safe(c.network), cb.label("networks", c.network)),
      c.account_handle ? badge("account", "@" + String(c.account_handle).replace(/^@/, "")) : null,
      c.language ? badge("lang", String(c.language).toUpperCase(),
        languages[c.language] || String(c.language)) : null,
      c.category ? badge("category cat-" + safe(c.category), cb.label("categories", c.category))
        : null,
      badge("status status-" + safe(c.status), cb.label("statuses", c.status)),
      assigneeBadge(c)
    ].concat((c.tags || []).map(function (t) { return badge("tag", "#" + t); })));
    var li = el("li", {
      className: "case status-" + safe(c.status) + (fresh[id] ? " fresh" : "")
        + (id === currentId ? " current" : "") + (selected[id] ? " selected" : ""),
      dataset: { id: id },
      attrs: { "aria-current": id === currentId ? "true" : "false" }
    }, [
      pick,
      el("span", { className: "score", text: Math.round(Number(c.priority) || 0),
        title: _("Priority") }),
      el("div", { className: "summary" }, [
        el("div", { className: "line" }, [
          el("a", { className: "open", href: "/cases/" + id, text: "#" + id }),
          el("span", { className: "customer", text: "@" + String(c.customer_handle || "")
            .replace(/^@/, "") }),
          badges
        ]),
        el("p", { className: "subject", text: c.excerpt || c.subject || "" }),
        el("p", { className: "reasons", text: c.priority_text || "" })
      ]),
      el("div", { className: "clock" }, [
        el("span", { className: "waiting" }),
        el("span", { className: "sla" })
      ])
    ]);
    fillClock(li, c);
    return li;
  }

  function assigneeBadge(c) {
    if (c.assignee_id) {
      var name = c.assignee_name || agents[c.assignee_id] || ("#" + c.assignee_id);
      return badge("assignee", name, _("Assigned to"));
    }
    if (c.team_id) {
      return badge("team", c.team_name || teams[c.team_id] || ("#" + c.team_id), _("Team"));
    }
    return badge("unassigned", _("Unassigned"));
  }

  function safe(code) {
    return String(code || "").replace(/[^a-z0-9_-]/gi, "");
  }

  function draw(page) {
    var now = Date.now();
    var ids = {};
    page.items.forEach(function (c) {
      c._fetchedAt = now;
      ids[c.id] = true;
      if (known !== null && !known[c.id]) {
        fresh[c.id] = true;
        window.setTimeout(function () { unfresh(c.id); }, 8000);
      }
    });
    known = Object.assign(known || {}, ids);
    rows = page.items;
    Object.keys(selected).forEach(function (id) {
      if (!ids[id]) {
        delete selected[id];  // out of view: never act on what the agent cannot see
      }
    });
    if (currentId !== null && !ids[currentId]) {
      currentId = null;
    }
    list.replaceChildren.apply(list, rows.map(caseItem));
    empty.hidden = rows.length > 0;
    var count = typeof page.total === "number" ? page.total : rows.length;
    total.textContent = _("Total: %(n)s", { n: cb.number(count) });
    updateBulk();
  }

  function unfresh(id) {
    delete fresh[id];
    var li = list.querySelector('li[data-id="' + Number(id) + '"]');
    if (li) {
      li.classList.remove("fresh");
    }
  }

  function tick() {
    rows.forEach(function (c) {
      var li = list.querySelector('li[data-id="' + Number(c.id) + '"]');
      if (li) {
        fillClock(li, c);
      }
    });
  }

  // --- selection and bulk actions ------------------------------------------------------
  function toggleSelected(id, on) {
    if (on) {
      selected[id] = true;
    } else {
      delete selected[id];
    }
    var li = list.querySelector('li[data-id="' + Number(id) + '"]');
    if (li) {
      li.classList.toggle("selected", Boolean(on));
      li.querySelector(".pick").checked = Boolean(on);
    }
    updateBulk();
  }

  function selectedIds() {
    return Object.keys(selected).map(Number);
  }

  function updateBulk() {
    var n = selectedIds().length;
    bulkBar.hidden = n === 0;
    bulkCount.textContent = _("Selected: %(n)s", { n: n });
    selectAll.checked = n > 0 && n === rows.length;
    selectAll.indeterminate = n > 0 && n < rows.length;
  }

  function bulk(action) {
    var ids = selectedIds();
    if (!ids.length || !canWrite) {
      return;
    }
    var body = { case_ids: ids, action: action };
    if (action === "assign") {
      var who = document.getElementById("bulk-assignee").value;
      if (!who) {
        cb.notify(_("Choose an agent first."), "error");
        return;
      }
      body.assignee_id = Number(who);
    } else if (action === "tag") {
      var tag = document.getElementById("bulk-tag").value.trim();
      if (!tag) {
        cb.notify(_("Type a tag first."), "error");
        return;
      }
      body.tags_add = [tag];
    }
    cb.api("POST", "/api/cases/bulk", body).then(function (result) {
      if (!result.ok) {
        cb.notify(cb.problem(result), "error");
        return;
      }
      var data = result.data || {};
      cb.notify(_("Cases updated: %(n)s", { n: data.succeeded || 0 }), "ok");
      (data.results || []).filter(function (r) { return !r.ok; }).forEach(function (r) {
        cb.notify(_("Case %(id)s: %(why)s", { id: r.case_id, why: r.detail || r.error }), "error");
      });
      selected = {};
      load();
    });
  }

  // --- keyboard triage -----------------------------------------------------------------
  function move(step) {
    if (!rows.length) {
      return;
    }
    var index = rows.findIndex(function (c) { return Number(c.id) === currentId; });
    index = index < 0 ? (step > 0 ? 0 : rows.length - 1)
      : Math.min(rows.length - 1, Math.max(0, index + step));
    setCurrent(Number(rows[index].id));
  }

  function setCurrent(id) {
    currentId = id;
    list.querySelectorAll("li.case").forEach(function (li) {
      var on = Number(li.dataset.id) === id;
      li.classList.toggle("current", on);
      li.setAttribute("aria-current", on ? "true" : "false");
      if (on) {
        li.scrollIntoView({ block: "nearest" });
        li.querySelector("a.open").focus({ preventScroll: true });
      }
    });
  }

  function patchCurrent(body, done) {
    if (currentId === null || !canWrite) {
      return;
    }
    var id = currentId;
    cb.api("PATCH", "/api/cases/" + id, body).then(function (result) {
      if (!result.ok) {
        cb.notify(cb.problem(result), "error");
        return;
      }
      cb.notify(done, "ok");
      load();
    });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || cb.isTyping(ev) || (help && help.open)) {
      return;
    }
    var key = ev.key;
    if (key === "j" || key === "ArrowDown") {
      move(1);
    } else if (key === "k" || key === "ArrowUp") {
      move(-1);
    } else if (key === "Enter" && currentId !== null) {
      window.location.assign("/cases/" + currentId);
    } else if (key === "r" && currentId !== null) {
      window.location.assign("/cases/" + currentId + "#reply");
    } else if (key === "a") {
      patchCurrent({ assignee_id: cb.agentId }, _("Assigned to you."));
    } else if (key === "e") {
      patchCurrent({ status: "resolved" }, _("Case resolved."));
    } else if (key === "x" && currentId !== null) {
      toggleSelected(currentId, !selected[currentId]);
    } else if (key === "/") {
      form.elements.q.focus();
    } else if (key === "?") {
      help.showModal();
    } else {
      return;
    }
    ev.preventDefault();
  });

  // --- wiring --------------------------------------------------------------------------
  // Another view of the inbox: its rows are not arrivals, so none is highlighted as new.
  function refilter() {
    window.history.replaceState(null, "", pageUrl());
    known = null;
    load();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    refilter();
  });
  form.addEventListener("change", function (ev) {
    if (ev.target.name !== "q") {
      refilter();
    }
  });
  var searchTimer = null;
  form.elements.q.addEventListener("input", function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(refilter, 300);
  });
  form.querySelector(".apply").hidden = true;  // filters apply as they change

  selectAll.addEventListener("change", function () {
    var on = selectAll.checked;  // read first: each toggle updates the box
    rows.forEach(function (c) { toggleSelected(Number(c.id), on); });
  });
  bulkBar.addEventListener("click", function (ev) {
    var action = ev.target.dataset && ev.target.dataset.bulk;
    if (action) {
      bulk(action);
    }
  });
  document.getElementById("bulk-clear").addEventListener("click", function () {
    selectedIds().forEach(function (id) { toggleSelected(id, false); });
  });
  document.getElementById("help-open").addEventListener("click", function () {
    help.showModal();
  });

  cb.live(function (type) {
    if (INBOX_KINDS.test(type)) {
      refreshSoon();
    }
  }, function (state) {
    liveState.dataset.state = state;
    liveState.textContent = state === "open" ? _("Live") : _("Reconnecting…");
    if (state === "open") {
      refreshSoon();  // catch up on anything missed while disconnected
    }
  });
  window.setInterval(tick, 1000);  // each row's countdown, red the second its deadline passes
  window.setInterval(load, 60000);  // waiting times re-order the list even without events
  load();
})();
