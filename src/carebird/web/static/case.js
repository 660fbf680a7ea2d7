// One case: the conversation (public and private apart), handling (status, assignee, team,
// category, tags) and who else is here, kept live from the event stream. The side panels
// (customer, notes, forwarding, merge/split, timeline) are case_panels.js, the composer
// composer.js; both work through window.carebirdCase. Text only ever goes in as textContent.
(function () {
  "use strict";

  var cb = window.carebird;
  var _ = cb._;
  var el = cb.el;
  var root = document.getElementById("case");
  if (!root) {
    return;
  }
  var caseId = Number(root.dataset.caseId);
  var base = "/api/cases/" + caseId;
  var canWrite = root.dataset.canWrite === "true";
  var agents = parse(root.dataset.agents, {});
  var detail = parse(root.dataset.detail, { case: {}, messages: [], events: [] });
  var splitPick = {};
  var listeners = [];  // composer.js and case_panels.js hear of every redraw (onChange)
  var liveListeners = [];  // and of this case's live events (onLive)
  var pickListeners = [];

  function parse(text, fallback) {
    try {
      return JSON.parse(text || "");
    } catch (e) {
      return fallback;
    }
  }

  function $(id) {
    return document.getElementById(id);
  }

  // --- the conversation ----------------------------------------------------------------
  function messageItem(m, withPick) {
    var priv = Boolean(m.is_private);
    var out = m.direction === "out";
    var meta = el("div", { className: "meta" }, [
      el("span", { className: "badge " + (priv ? "private" : "public"),
        text: priv ? _("Private") : _("Public") }),
      el("span", { className: "dir", text: out ? _("Sent") : _("Received") }),
      el("span", { className: "author", text: m.author_handle || "" }),
      el("time", { dateTime: String(m.created_at || ""), text: cb.when(m.created_at) })
    ]);
    if (withPick && !out) {
      meta.appendChild(el("label", { className: "split-pick" }, [
        el("input", {
          type: "checkbox",
          checked: Boolean(splitPick[m.id]),
          onchange: function (ev) { pickForSplit(m.id, ev.target.checked); }
        }),
        " " + _("split")
      ]));
    }
    return el("li", {
      className: "msg " + (out ? "out" : "in") + " " + (priv ? "private" : "public"),
      dataset: { id: m.id }
    }, [meta, el("p", { className: "text", text: m.text || "" })]);
  }

  function drawMessages() {
    var box = $("messages");
    var withPick = Boolean($("split-button"));
    var items = detail.messages.map(function (m) { return messageItem(m, withPick); });
    if (!items.length) {
      items.push(el("li", { className: "muted", text: _("No messages.") }));
    }
    box.replaceChildren.apply(box, items);
  }

  function drawHead() {
    var c = detail.case;
    var status = $("case-status");
    status.textContent = cb.label("statuses", c.status);
    status.className = "badge status status-" + String(c.status).replace(/[^a-z_]/g, "");
    $("case-subject").textContent = cb.visibleBidi(c.subject || "");
    setSelect("status-select", c.status);
    setSelect("assignee-select", c.assignee_id === null ? "" : String(c.assignee_id));
    setSelect("team-select", c.team_id === null ? "" : String(c.team_id));
    if (c.category) {
      setSelect("category-select", c.category);
    }
    drawTags(c.tags || []);
  }

  function setSelect(id, value) {
    var select = $(id);
    if (select && document.activeElement !== select) {
      select.value = value;
    }
  }

  function drawTags(tags) {
    var box = $("tags");
    box.replaceChildren.apply(box, tags.map(function (tag) {
      return el("li", { className: "tag" }, [
        el("span", { text: tag }),
        canWrite ? el("button", {
          type: "button",
          className: "remove",
          text: "×",
          attrs: { "aria-label": _("Remove the tag %(tag)s", { tag: tag }) },
          onclick: function () { patch({ tags_remove: [tag] }); }
        }) : null
      ]);
    }));
    if (!tags.length) {
      box.appendChild(el("li", { className: "muted", text: "—" }));
    }
  }

  function reload() {
    return cb.api("GET", base).then(function (result) {
      if (result.ok && result.data) {
        setDetail(result.data);
      }
    });
  }

  function setDetail(data) {
    detail = data;
    drawHead();
    drawMessages();
    listeners.forEach(function (fn) { fn(detail); });
  }

  // --- handling ------------------------------------------------------------------------
  function patch(body) {
    return cb.api("PATCH", base, body).then(function (result) {
      if (!result.ok) {
        cb.notify(cb.problem(result), "error");
        drawHead();  // put the controls back as the case really is
        return false;
      }
      setDetail(result.data);
      cb.notify(_("Saved."), "ok");
      return true;
    });
  }

  function wireHandling() {
    if (!canWrite) {
      return;
    }
    $("status-select").addEventListener("change", function (ev) {
      patch({ status: ev.target.value });
    });
    $("assignee-select").addEventListener("change", function (ev) {
      patch({ assignee_id: ev.target.value ? Number(ev.target.value) : null });
    });
    $("team-select").addEventListener("change", function (ev) {
      patch({ team_id: ev.target.value ? Number(ev.target.value) : null });
    });
    $("category-select").addEventListener("change", function (ev) {
      if (ev.target.value) {
        patch({ category: ev.target.value });
      }
    });
    $("assign-me").addEventListener("click", function () {
      patch({ assignee_id: cb.agentId });
    });
    $("tag-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = $("tag-input");
      var tag = input.value.trim();
      if (tag) {
        patch({ tags_add: [tag] }).then(function (ok) {
          if (ok) {
            input.value = "";
          }
        });
      }
    });
  }

  // Messages ticked for a split (case_panels.js splits them).
  function pickForSplit(id, on) {
    if (on) {
      splitPick[id] = true;
    } else {
      delete splitPick[id];
    }
    pickListeners.forEach(function (fn) { fn(Object.keys(splitPick).map(Number)); });
  }

  // --- presence ------------------------------------------------------------------------
  var presenceState = "viewing";
  var lastTyping = 0;

  function announce(state) {
    presenceState = state;
    return cb.api("POST", base + "/presence", { state: state }).then(function (result) {
      if (result.ok && result.data) {
        drawPresence(result.data.agents);
      }
    });
  }

  function loadPresence() {
    cb.api("GET", base + "/presence").then(function (result) {
      drawPresence(result.ok && result.data ? result.data.agents : []);
    });
  }

  function drawPresence(others) {
    others = (others || []).filter(function (p) { return Number(p.agent_id) !== cb.agentId; });
    var box = $("presence");
    box.replaceChildren.apply(box, others.map(function (p) {
      var typing = p.state === "typing";
      return el("span", { className: "who " + (typing ? "typing" : "viewing"),
        dataset: { agentId: p.agent_id },
        text: typing ? _("%(name)s is typing…", { name: p.name })
          : _("%(name)s is viewing", { name: p.name }) });
    }));
    box.hidden = others.length === 0;
  }

  function typing() {
    var now = Date.now();
    if (presenceState !== "typing" || now - lastTyping > 5000) {
      lastTyping = now;
      announce("typing");
    }
  }

  // --- live ----------------------------------------------------------------------------
  var reloadTimer = null;

  function reloadSoon() {
    window.clearTimeout(reloadTimer);
    reloadTimer = window.setTimeout(reload, 150);
  }

  function eventCase(data) {
    return Number(data.case_id || (data.payload && data.payload.case_id) || 0);
  }

  cb.live(function (type, data) {
    var id = eventCase(data);
    if (id && id !== caseId) {
      return;
    }
    liveListeners.forEach(function (fn) { fn(type, data); });
    if (type === "reset") {
      reloadSoon();
      loadPresence();
    } else if (/^presence/.test(type)) {
      if (Array.isArray(data.agents)) {
        drawPresence(data.agents);
      } else {
        loadPresence();
      }
    } else if (id === caseId && !/^(note|forward)/.test(type)) {
      reloadSoon();
    }
  }, function (state) {
    if (state === "open") {
      reloadSoon();
    }
  });

  document.addEventListener("keydown", function (ev) {
    var help = $("help");
    if (ev.ctrlKey || ev.metaKey || ev.altKey || cb.isTyping(ev) || help.open) {
      return;
    }
    if (ev.key === "r" && $("reply-text")) {
      $("reply-text").focus();
    } else if (ev.key === "a" && canWrite) {
      patch({ assignee_id: cb.agentId });
    } else if (ev.key === "e" && canWrite) {
      patch({ status: "resolved" });
    } else if (ev.key === "u") {
      window.location.assign("/");
    } else if (ev.key === "?") {
      help.showModal();
    } else {
      return;
    }
    ev.preventDefault();
  });

  window.carebirdCase = {
    id: caseId,
    base: base,
    network: root.dataset.network,
    canWrite: canWrite,
    agents: agents,
    teams: parse(root.dataset.teams, {}),
    detail: function () { return detail; },
    setDetail: setDetail,
    reload: reload,
    reloadSoon: reloadSoon,
    onChange: function (fn) { listeners.push(fn); },
    onLive: function (fn) { liveListeners.push(fn); },
    onPick: function (fn) { pickListeners.push(fn); },
    clearPicks: function () {
      splitPick = {};
      pickListeners.forEach(function (fn) { fn([]); });
    },
    typing: typing,
    idle: function () { announce("viewing"); }
  };

  drawHead();
  drawMessages();
  wireHandling();
  announce("viewing");
  window.addEventListener("pagehide", function () {
    // keepalive lets the request outlive the page, so colleagues stop seeing us at once.
    fetch(base + "/presence", {
      method: "POST",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cb.csrf() },
      body: JSON.stringify({ state: "left" })
    }).catch(function () { /* the heartbeat expires anyway */ });
  });
  window.setInterval(function () { announce(presenceState === "typing" && Date.now() - lastTyping
    < 8000 ? "typing" : "viewing"); }, 20000);
  window.setInterval(loadPresence, 10000);
})();
