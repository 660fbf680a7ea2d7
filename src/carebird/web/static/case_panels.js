// The case page's side panels: the customer and their previous cases, internal notes,
// forwarding to an outside owner, merge and split, the timeline. They work through
// window.carebirdCase (case.js) and refresh on its redraws and live events.
(function () {
  "use strict";

  var cb = window.carebird;
  var page = window.carebirdCase;
  var _ = cb._;
  var el = cb.el;
  if (!page) {
    return;
  }
  var caseId = page.id;
  var base = page.base;
  var agents = page.agents;
  var teams = page.teams;

  function $(id) {
    return document.getElementById(id);
  }

  // --- the customer --------------------------------------------------------------------
  function loadCustomer() {
    cb.api("GET", base + "/customer").then(function (result) {
      var box = $("previous-cases");
      if (!result.ok || !result.data) {
        box.replaceChildren(el("li", { className: "muted", text: _("Unavailable.") }));
        return;
      }
      var p = result.data.identity || {};
      if (p && p.handle) {
        var identity = [p.handle];
        if (p.display_name) {
          identity.push("(" + p.display_name + ")");
        }
        identity.push("· " + cb.label("networks", p.network || page.network));
        $("customer-identity").textContent = identity.join(" ");
        var followers = $("customer-followers");
        followers.replaceChildren(cb.number(Number(p.followers) || 0));
        if (p.verified) {
          followers.appendChild(document.createTextNode(" · "));
          followers.appendChild(el("span", { className: "badge verified", text: _("verified") }));
        }
      }
      var previous = (result.data.previous_cases || []).filter(function (c) {
        return Number(c.id) !== caseId;
      });
      box.replaceChildren.apply(box, previous.map(function (c) {
        return el("li", {}, [
          el("a", { href: "/cases/" + Number(c.id), text: "#" + Number(c.id) }),
          " ",
          el("span", { className: "badge status status-" + String(c.status).replace(/[^a-z_]/g, ""),
            text: cb.label("statuses", c.status) }),
          " ",
          el("span", { className: "subject", text: c.subject || "" }),
          " ",
          el("time", { dateTime: String(c.created_at || ""), text: cb.when(c.created_at) })
        ]);
      }));
      if (!previous.length) {
        box.appendChild(el("li", { className: "muted", text: _("No previous case.") }));
      }
    });
  }

  // --- notes ---------------------------------------------------------------------------
  function loadNotes() {
    cb.api("GET", base + "/notes").then(function (result) {
      var box = $("notes");
      var notes = result.ok && Array.isArray(result.data) ? result.data : [];
      box.replaceChildren.apply(box, notes.map(function (n) {
        return el("li", { className: "note" + (n.forward_id ? " outside" : "") }, [
          el("div", { className: "meta" }, [
            el("span", { className: "author", text: n.author_name || "" }),
            " ",
            el("time", { dateTime: String(n.created_at || ""), text: cb.when(n.created_at) })
          ]),
          el("p", { className: "text", text: n.body || "" })
        ]);
      }));
      if (!notes.length) {
        box.appendChild(el("li", { className: "muted", text: _("No notes yet.") }));
      }
    });
  }

  function wireNotes() {
    var form = $("note-form");
    if (!form) {
      return;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = $("note-text").value.trim();
      if (!text) {
        return;
      }
      cb.api("POST", base + "/notes", { body: text }).then(function (result) {
        if (!result.ok) {
          cb.notify(cb.problem(result), "error");
          return;
        }
        $("note-text").value = "";
        loadNotes();
        loadTimeline();
      });
    });
  }

  // --- forwarding to an outside owner --------------------------------------------------
  var owners = {};

  function loadOwners() {
    var select = $("forward-owner");
    if (!select) {
      return Promise.resolve();
    }
    return cb.api("GET", "/api/outside-owners").then(function (result) {
      var found = result.ok && Array.isArray(result.data) ? result.data : [];
      var keep = select.value;
      select.replaceChildren(select.options[0]);
      found.forEach(function (o) {
        owners[o.id] = o;
        var label = o.name + (o.organisation ? " · " + o.organisation : "") + " <" + o.email + ">";
        select.appendChild(el("option", { value: String(o.id), text: label }));
      });
      select.value = keep;
      loadForwards();
    });
  }

  var FORWARD_STATES = {
    pending: _("waiting for an answer"),
    overdue: _("late: no answer yet"),
    answered: _("answered"),
    revoked: _("cancelled"),
    expired: _("link expired")
  };

  function loadForwards() {
    var box = $("forwards");
    if (!box) {
      return;
    }
    cb.api("GET", base + "/forwards").then(function (result) {
      var items = result.ok && Array.isArray(result.data) ? result.data : [];
      box.replaceChildren.apply(box, items.map(function (f) {
        var owner = owners[f.owner_id];
        return el("li", { className: "forward state-" + String(f.state).replace(/[^a-z]/g, ""),
          dataset: { forwardId: f.id } }, [
          el("strong", { text: owner ? owner.name : "#" + f.owner_id }),
          " · ",
          el("span", { className: "state", text: FORWARD_STATES[f.state] || f.state }),
          " · ",
          el("time", { dateTime: String(f.due_at),
            text: _("due %(when)s", { when: cb.when(f.due_at) }) }),
          f.answer ? el("p", { className: "text", text: f.answer }) : null
        ]);
      }));
    });
  }

  function newOwner() {
    var email = $("forward-email") ? $("forward-email").value.trim() : "";
    if (!email) {
      return Promise.resolve(null);
    }
    var body = { email: email, name: $("forward-name").value.trim() || email,
      language: cb.locale };
    return cb.api("POST", "/api/outside-owners", body).then(function (result) {
      if (!result.ok) {
        cb.notify(cb.problem(result), "error");
        return false;
      }
      return result.data.id;
    });
  }

  function wireForward() {
    var form = $("forward-form");
    if (!form) {
      return;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var chosen = Number($("forward-owner").value) || null;
      (chosen ? Promise.resolve(chosen) : newOwner()).then(function (ownerId) {
        if (ownerId === false) {
          return null;
        }
        if (!ownerId) {
          cb.notify(_("Choose an owner first."), "error");
          return null;
        }
        return cb.api("POST", base + "/forward", {
          owner_id: ownerId,
          note: $("forward-message").value.trim(),
          due_hours: Number($("forward-hours").value) || 24,
          include_private: $("forward-private").checked,
          tell_customer: $("forward-tell").checked
        });
      }).then(function (result) {
        button.disabled = false;
        if (!result) {
          return;
        }
        if (!result.ok) {
          cb.notify(cb.problem(result), "error");
          return;
        }
        cb.notify(_("Forwarded: the owner has been e-mailed."), "ok");
        form.reset();
        loadOwners();
        page.reloadSoon();
      });
    });
  }

  // --- merge and split -----------------------------------------------------------------
  function wireMerge() {
    var form = $("merge-form");
    if (!form) {
      return;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var target = Number($("merge-target").value);
      if (!target || target === caseId) {
        cb.notify(_("Type the number of another case."), "error");
        return;
      }
      if (!window.confirm(_("Merge case %(a)s into this case (%(b)s)? Case %(a)s will be closed.",
        { a: target, b: caseId }))) {
        return;
      }
      var force = $("merge-force") ? $("merge-force").checked : false;
      cb.api("POST", base + "/merge", { other_id: target, force: force }).then(function (result) {
        if (!result.ok) {
          cb.notify(cb.problem(result), "error");
          return;
        }
        $("merge-target").value = "";
        page.setDetail(result.data);  // redraws, and the timeline with it
        loadCustomer();
        cb.notify(_("Case %(id)s merged into this one.", { id: target }), "ok");
      });
    });
    $("split-button").addEventListener("click", function () {
      var ids = picked.slice();
      if (!ids.length) {
        return;
      }
      cb.api("POST", base + "/split", { message_ids: ids }).then(function (result) {
        if (!result.ok) {
          cb.notify(cb.problem(result), "error");
          return;
        }
        var created = result.data.new_case.case.id;
        page.clearPicks();
        $("split-button").disabled = true;
        page.setDetail(result.data.case);
        loadCustomer();
        cb.notify(_("Split into case %(id)s.", { id: created }), "ok");
        var link = $("split-result");
        link.href = "/cases/" + Number(created);
        link.textContent = _("Open case %(id)s", { id: created });
        link.hidden = false;
      });
    });
  }

  // --- the timeline --------------------------------------------------------------------
  function codeText(kind, value) {
    if (value === null || value === undefined || value === "") {
      return "";
    }
    if (kind === "event.status" || kind === "event.created") {
      return cb.label("statuses", value);
    }
    if (kind === "event.category") {
      return cb.label("categories", value);
    }
    if (kind === "event.assigned" || kind === "event.assignee") {
      return agents[value] || "#" + value;
    }
    if (kind === "event.team") {
      return teams[value] || "#" + value;
    }
    return String(value);
  }

  function eventText(e) {
    var change = "";
    if (e.source === "message" || e.source === "note") {
      change = e.text || "";
    } else if (e.source === "forward") {
      change = (e.data && e.data.owner) || "";
    } else if (/^event\.reply/.test(e.kind)) {
      change = "";  // the reply itself is in the timeline as a message; ids say nothing
    } else if (e.text) {
      change = e.text;
    } else if (e.new !== null && e.new !== undefined) {
      var old = codeText(e.kind, e.old);
      change = (old ? old + " → " : "") + codeText(e.kind, e.new);
    } else if (e.old) {
      change = codeText(e.kind, e.old) + " → " + _("nobody");
    }
    if (change.length > 140) {
      change = change.slice(0, 139) + "…";
    }
    return change ? e.label + " · " + change : e.label;
  }

  function loadTimeline() {
    cb.api("GET", base + "/timeline").then(function (result) {
      if (!result.ok || !Array.isArray(result.data)) {
        return;
      }
      var items = result.data.slice().reverse();  // newest first
      var box = $("timeline");
      box.replaceChildren.apply(box, items.map(function (e) {
        return el("li", { className: "event source-" + String(e.source).replace(/[^a-z]/g, ""),
          dataset: { kind: e.kind } }, [
          el("time", { dateTime: String(e.at || ""), text: cb.when(e.at) }),
          " ",
          el("span", { className: "what", text: eventText(e) }),
          " ",
          el("span", { className: "actor", text: e.actor_name || _("system") })
        ]);
      }));
    });
  }

  // --- keeping up ---------------------------------------------------------------------
  page.onChange(function () { loadTimeline(); });
  page.onLive(function (type, data) {
    var id = Number(data.case_id || 0);
    if (type === "reset") {
      loadNotes();
      loadForwards();
      loadCustomer();
    } else if (id === caseId && /^note/.test(type)) {
      loadNotes();
      loadTimeline();
    } else if (id === caseId && /^forward/.test(type)) {
      loadForwards();
      loadNotes();
      page.reloadSoon();
    }
  });
  var picked = [];
  page.onPick(function (ids) {
    picked = ids;
    var button = $("split-button");
    if (button) {
      button.disabled = ids.length === 0;
    }
  });

  wireNotes();
  wireForward();
  wireMerge();
  loadCustomer();
  loadNotes();
  loadOwners();
  loadTimeline();
})();
