// The composer on the case page. Every change of the draft asks /api/cases/{id}/compose where
// the reply goes, its length as the network counts it, the thread parts, the signature, the
// cost and any personal data (which blocks a public send, with one-click ways out). Sending
// posts to /api/cases/{id}/replies with an idempotency key made when the composer opened, so a
// double click or a retry never posts twice; a colleague's reply since the draft began blocks
// the send (409) until it has been read.
(function () {
  "use strict";

  var cb = window.carebird;
  var page = window.carebirdCase;
  var _ = cb._;
  var el = cb.el;
  var box = document.getElementById("composer");
  if (!box || !page) {
    return;
  }
  var base = "/api/cases/" + page.id;
  var text = document.getElementById("reply-text");
  var send = document.getElementById("send");
  var sendState = document.getElementById("send-state");
  var target = document.getElementById("reply-target");
  var guard = document.getElementById("pii-guard");
  var collision = document.getElementById("collision");
  var cardAttach = document.getElementById("card-attach");
  var VARIABLE_NAMES = {
    customer_name: _("Customer's name"),
    customer_handle: _("Customer's handle"),
    agent_name: _("Agent's name"),
    agent_initials: _("Agent's initials"),
    case_number: _("Case number"),
    expected_wait: _("Expected wait"),
    brand: _("Brand"),
    dm_link: _("Private message link")
  };
  var NEEDED = { expected_wait: true };  // no case knows it: the agent states it
  var PII_NAMES = {  // the kinds carebird.understand.pii finds
    phone: _("a phone number"),
    email: _("an e-mail address"),
    reference: _("an order, booking or account reference"),
    iban: _("an IBAN"),
    card: _("a card number")
  };

  var key = cb.uuid();            // one per reply being written; reused by every retry
  var seenId = newestId(page.detail());
  var composition = null;
  var sending = false;
  var template = null;            // the template whose variables are being asked
  var inserted = null;            // the template last put in the draft (names its card)
  var cardTitle = "";             // the title of the card last previewed
  var composeTimer = null;
  var composeSeq = 0;

  function newestId(detail) {
    return detail.messages.reduce(function (m, x) { return Math.max(m, Number(x.id)); }, 0)
      || null;
  }

  function isPrivate() {
    return box.querySelector("input[name=target]:checked").value === "private";
  }

  function setPrivate(on) {
    box.querySelector('input[name=target][value="' + (on ? "private" : "public") + '"]')
      .checked = true;
    drawTarget();
    composeSoon(0);
  }

  function drawTarget() {
    var priv = isPrivate();
    target.classList.toggle("private", priv);
    target.classList.toggle("public", !priv);
    var label = composition && composition.private === priv ? composition.destination.label
      : (priv ? _("Private message to the customer") : _("Public reply, visible to everyone"));
    document.getElementById("target-text").textContent = label;
    send.textContent = priv ? _("Send privately") : _("Send publicly");
  }

  // --- asking the server -------------------------------------------------------------
  function composeSoon(delay) {
    window.clearTimeout(composeTimer);
    composeTimer = window.setTimeout(composeNow, delay === undefined ? 250 : delay);
  }

  function composeNow(extra) {
    var body = { text: text.value, private: isPrivate() };
    Object.assign(body, extra || {});
    if (!body.text.trim() && !body.template_id) {
      composition = null;
      drawComposition();
      return Promise.resolve(null);
    }
    var seq = ++composeSeq;
    return cb.api("POST", base + "/compose", body).then(function (result) {
      if (seq !== composeSeq) {
        return null;  // a newer draft was sent meanwhile
      }
      if (!result.ok) {
        if (!extra) {
          document.getElementById("reply-problems").textContent = cb.problem(result);
        }
        return result;
      }
      if (!extra) {
        composition = result.data;
        drawComposition();
      }
      return result;
    });
  }

  function drawComposition() {
    var c = composition;
    drawTarget();
    var length = document.getElementById("reply-length");
    var parts = document.getElementById("reply-parts");
    var cost = document.getElementById("reply-cost");
    var signature = document.getElementById("reply-signature");
    var preview = document.getElementById("preview-body");
    var problems = document.getElementById("reply-problems");
    if (!c) {
      problems.textContent = "";
      length.textContent = "";
      parts.textContent = "";
      cost.textContent = "";
      signature.textContent = "";
      guard.hidden = true;
      preview.replaceChildren();
      send.disabled = !text.value.trim() || !collision.hidden;
      return;
    }
    var network = cb.label("networks", c.network);
    length.textContent = _("%(n)s / %(limit)s characters on %(network)s",
      { n: c.length.length, limit: c.length.limit, network: network });
    length.classList.toggle("over", Boolean(c.length.over));
    parts.textContent = c.split ? _("Thread of %(n)s posts", { n: c.parts.length }) : "";
    cost.textContent = c.cost && c.cost.cost > 0
      ? _("Cost: %(amount)s", { amount: cb.money(c.cost.cost, "USD") }) : _("Free to send");
    signature.textContent = c.signature ? _("Signature: %(sig)s", { sig: c.signature.trim() })
      : "";
    drawGuard(c);
    preview.replaceChildren(el("p", { className: "preview-where", text: c.destination.label }),
      el("ol", { className: "parts" + (c.split ? " thread" : "") }, c.parts.map(function (p) {
        return el("li", { className: "part" + (p.over ? " over" : "") }, [
          el("p", { className: "text", text: p.text }),
          el("span", { className: "part-len", text: p.length + " / " + p.limit })
        ]);
      })));
    // An empty text or a thread too long to post: the server would refuse it, say why now.
    var found = c.problems || [];
    problems.textContent = found.map(function (p) { return p.message; }).join(" ");
    document.getElementById("preview").open = c.split || document.getElementById("preview").open;
    send.disabled = c.blocked || !text.value.trim() || found.length > 0 || !collision.hidden;
  }

  function drawGuard(c) {
    guard.hidden = !c.blocked;
    if (!c.blocked) {
      return;
    }
    var kinds = {};
    c.personal_data.forEach(function (p) { kinds[p.kind] = PII_NAMES[p.kind] || p.kind; });
    document.getElementById("pii-text").textContent = _(
      "This public reply contains %(what)s: everyone would see it. Send it privately instead.",
      { what: Object.keys(kinds).map(function (k) { return kinds[k]; }).join(", ") });
    document.getElementById("invite-private").hidden = !c.switch;
  }

  // --- templates -----------------------------------------------------------------------
  var templateTimer = null;

  function searchTemplates() {
    var q = document.getElementById("template-q").value.trim();
    var results = document.getElementById("template-results");
    if (!q) {
      results.replaceChildren();
      return;
    }
    cb.api("GET", "/api/templates?q=" + encodeURIComponent(q)).then(function (result) {
      var found = result.ok && Array.isArray(result.data) ? result.data : [];
      results.replaceChildren.apply(results, found.slice(0, 8).map(function (t) {
        return el("li", {}, [el("button", {
          type: "button",
          className: "template-pick",
          dataset: { id: t.id },
          onclick: function () { askVariables(t); }
        }, [
          el("strong", { text: t.name }),
          " ",
          el("span", { className: "badge lang", text: String(t.language).toUpperCase() }),
          el("span", { className: "template-body", text: t.body })
        ])]);
      }));
      if (!found.length) {
        results.appendChild(el("li", { className: "muted", text: _("No template found.") }));
      }
    });
  }

  function askVariables(t) {
    template = t;
    var form = document.getElementById("template-form");
    document.getElementById("template-name").textContent = t.name;
    var vars = document.getElementById("template-vars");
    vars.replaceChildren.apply(vars, t.variables.map(function (name) {
      return el("label", {}, [
        (VARIABLE_NAMES[name] || name) + " ",
        el("input", {
          type: "text",
          name: name,
          maxLength: 500,
          required: Boolean(NEEDED[name]),
          placeholder: NEEDED[name] ? "" : _("from the case"),
          // the account's live estimate, in the customer's language; the agent may change it
          value: name === "expected_wait" ? (box.dataset.expectedWait || "") : ""
        })
      ]);
    }));
    form.hidden = false;
    var first = vars.querySelector("input[required]") || vars.querySelector("input");
    (first || form.querySelector("button[type=submit]")).focus();
    document.getElementById("template-results").replaceChildren();
  }

  function insertTemplate(ev) {
    ev.preventDefault();
    if (!template) {
      return;
    }
    var variables = {};
    document.getElementById("template-vars").querySelectorAll("input").forEach(function (i) {
      if (i.value.trim()) {
        variables[i.name] = i.value.trim();
      }
    });
    composeNow({ text: "", template_id: template.id, variables: variables }).then(function (r) {
      if (!r || !r.ok) {
        cb.notify(r ? cb.problem(r) : _("Something went wrong. Try again."), "error");
        return;
      }
      text.value = r.data.template ? r.data.template.text : r.data.text;
      inserted = r.data.template || null;
      closeTemplate();
      text.focus();
      composeSoon(0);
    });
  }

  function closeTemplate() {
    template = null;
    document.getElementById("template-form").hidden = true;
    document.getElementById("template-q").value = "";
  }

  // --- the answer card: the text drawn as an image (PNG from the server) ------------------
  function showCard() {
    var body = template ? { template_id: template.id } : { text: text.value };
    var title = template ? template.name : (inserted ? inserted.name : "");
    if (!body.template_id && !body.text.trim()) {
      cb.notify(_("Write the answer first."), "error");
      return;
    }
    fetch(base + "/card", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cb.csrf() },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) {
        throw new Error(String(r.status));
      }
      return r.blob();
    }).then(function (blob) {
      // A data: URL, because the page's CSP allows images from 'self' and data: only.
      var reader = new FileReader();
      reader.onload = function () {
        var img = document.getElementById("card-image");
        img.src = String(reader.result);
        img.hidden = false;
        cardTitle = title;
        document.getElementById("card-attach-row").hidden = false;
      };
      reader.readAsDataURL(blob);
    }).catch(function () {
      cb.notify(_("Something went wrong. Try again."), "error");
    });
  }

  // --- sending -------------------------------------------------------------------------
  function doSend() {
    if (sending || send.disabled || !text.value.trim()) {
      return;
    }
    sending = true;
    send.disabled = true;
    sendState.textContent = _("Sending…");
    var priv = isPrivate();
    var body = {
      text: text.value,
      private: priv,
      idempotency_key: key,
      seen_message_id: seenId
    };
    if (cardAttach.checked && !cardAttach.closest("[hidden]")) {
      // The card shows the answer as sent (the rendered template, or the draft as edited);
      // networks that cannot carry an image refuse it (422), shown below.
      body.card_title = cardTitle;
      body.card_text = text.value;
    }
    cb.api("POST", base + "/replies", body).then(function (result) {
      sending = false;
      if (result.ok) {
        sent(result.data, priv);
      } else if (result.status === 409) {
        collided(result.data || {});
      } else {
        sendState.textContent = cb.problem(result);
        send.disabled = false;
        if (result.status === 422) {
          composeSoon(0);
        }
      }
    }).catch(function () {
      // No answer (network down): the same key makes the retry safe.
      sending = false;
      send.disabled = false;
      sendState.textContent = _("Not sent: the connection failed. Send again to retry.");
    });
  }

  // Other scripts (suggestions.js) put a text in the draft and hear what was sent.
  var sentListeners = [];
  window.carebirdComposer = {
    insert: function (value, cardName) {
      text.value = value;
      inserted = cardName ? { name: cardName } : null;
      text.focus();
      composeSoon(0);
    },
    showCard: showCard,
    onSent: function (fn) { sentListeners.push(fn); }
  };

  function sent(item, priv) {
    var list = document.getElementById("sent-replies");
    list.prepend(el("li", { className: "sent " + (priv ? "private" : "public"),
      dataset: { outboxId: item.id } }, [
      el("span", { className: "badge " + (priv ? "private" : "public"),
        text: priv ? _("Private") : _("Public") }),
      " ",
      el("span", { className: "state", text: _("Queued: it will appear in the conversation once posted.") }),
      el("p", { className: "text", text: item.text })
    ]));
    sendState.textContent = priv ? _("Private message queued.") : _("Public reply queued.");
    var sentText = text.value;
    sentListeners.forEach(function (fn) { fn(sentText); });
    text.value = "";
    forgetCard();
    key = cb.uuid();  // the next reply is another reply
    seenId = newestId(page.detail()) || seenId;
    composition = null;
    drawComposition();  // the target stays as it was: going public is always a choice
    page.idle();
  }

  function forgetCard() {
    inserted = null;
    cardTitle = "";
    cardAttach.checked = false;
    document.getElementById("card-attach-row").hidden = true;
    document.getElementById("card-image").hidden = true;
  }

  function collided(data) {
    collision.dataset.latest = String(data.latest_message_id || "");
    collision.hidden = false;
    send.disabled = true;
    sendState.textContent = "";
    page.reload().then(function () {
      drawCollision(page.detail());
      collision.querySelector("#collision-ack").focus();
    });
  }

  // What arrived since the draft began (redrawn live while the warning is up).
  function drawCollision(detail) {
    var newer = detail.messages.filter(function (m) {
      return seenId === null || Number(m.id) > seenId;
    });
    var list = document.getElementById("collision-messages");
    var items = newer.map(function (m) {
      return el("li", { className: "msg " + (m.direction === "out" ? "out" : "in") + " "
        + (m.is_private ? "private" : "public"), dataset: { id: m.id } }, [
        el("div", { className: "meta" }, [
          el("span", { className: "badge " + (m.is_private ? "private" : "public"),
            text: m.is_private ? _("Private") : _("Public") }),
          el("span", { className: "author", text: m.author_handle || "" }),
          el("time", { dateTime: String(m.created_at), text: cb.when(m.created_at) })
        ]),
        el("p", { className: "text", text: m.text })
      ]);
    });
    if (!items.length) {
      items.push(el("li", { className: "muted",
        text: _("Their reply is still being sent; it will show here in a moment.") }));
    }
    list.replaceChildren.apply(list, items);
    var latest = Math.max(Number(collision.dataset.latest) || 0, newestId(detail) || 0);
    collision.dataset.latest = String(latest || "");
  }

  function acknowledge() {
    var latest = Number(collision.dataset.latest) || newestId(page.detail());
    seenId = latest;
    collision.hidden = true;
    sendState.textContent = _("Read. You can send your reply now, or change it first.");
    composeSoon(0);
  }

  // --- wiring --------------------------------------------------------------------------
  text.addEventListener("input", function () {
    page.typing();
    composeSoon();
  });
  text.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      doSend();
    }
  });
  box.querySelectorAll("input[name=target]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      drawTarget();
      composeSoon(0);
    });
  });
  send.addEventListener("click", doSend);
  document.getElementById("switch-private").addEventListener("click", function () {
    setPrivate(true);
  });
  document.getElementById("invite-private").addEventListener("click", function () {
    if (composition && composition.switch) {
      // The personal data stays out of public view: keep it for the private message.
      text.value = composition.switch.invitation_text;
      setPrivate(false);
    }
  });
  document.getElementById("collision-ack").addEventListener("click", acknowledge);
  document.getElementById("card-button").addEventListener("click", showCard);
  document.getElementById("template-q").addEventListener("input", function () {
    window.clearTimeout(templateTimer);
    templateTimer = window.setTimeout(searchTemplates, 200);
  });
  document.getElementById("template-form").addEventListener("submit", insertTemplate);
  document.getElementById("template-cancel").addEventListener("click", closeTemplate);

  page.onChange(function (detail) {
    // `seenId` only moves when the agent acknowledges a collision (or sends): a reply that
    // lands while they type is never silently taken as read.
    if (!collision.hidden) {
      drawCollision(detail);
    } else if (seenId === null) {
      seenId = newestId(detail);
    }
  });

  drawTarget();
  send.disabled = true;
  if (window.location.hash === "#reply") {
    text.focus();
  }
})();
