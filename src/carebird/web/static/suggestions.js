// The composer's suggested answers: the three best for this case (templates, articles, the
// team's past replies), each with its reason. One click records the choice and puts the answer,
// variables filled, in the draft; what is finally sent is recorded too (the agent's edits), and
// both feed the next rankings. An article goes as a link (its public page) or as an answer card
// (its summary drawn as an image), with the price of each where the network bills replies.
(function () {
  "use strict";

  var cb = window.carebird;
  var page = window.carebirdCase;
  var composer = window.carebirdComposer;
  var list = document.getElementById("suggestion-list");
  if (!cb || !page || !composer || !list) {
    return;
  }
  var _ = cb._;
  var el = cb.el;
  var base = "/api/cases/" + page.id;
  var pending = null;  // the suggestion use waiting for the reply it went into

  function choose(s, text, cardName) {
    composer.insert(text, cardName);
    cb.api("POST", base + "/suggestions/uses", {
      kind: s.kind, ref: String(s.ref), rank: s.rank, text: text
    }).then(function (result) {
      pending = result.ok ? result.data.id : null;
    });
  }

  function costs(a) {
    if (!a.url || !(a.link_cost > a.card_cost)) {
      return null;
    }
    return el("p", { className: "suggestion-cost", text: _(
      "As a link: %(link)s · as a card: %(card)s (a reply with a URL costs more on X)",
      { link: cb.money(a.link_cost, "USD"), card: cb.money(a.card_cost, "USD") }) });
  }

  function buttons(s) {
    if (s.kind !== "article" || !s.article) {
      return [el("button", { type: "button", className: "suggestion-insert",
        text: _("Insert"), onclick: function () { choose(s, s.text); } })];
    }
    var a = s.article;
    var out = [];
    if (a.url) {
      out.push(el("button", { type: "button", className: "suggestion-link",
        text: _("Insert with the link"), onclick: function () { choose(s, a.link_text); } }));
    }
    out.push(el("button", { type: "button", className: "suggestion-card",
      text: _("Insert as an answer card"), onclick: function () {
        choose(s, a.card_text, a.card_title);
        document.getElementById("preview").open = true;
        composer.showCard();
      } }));
    return out;
  }

  function draw(found) {
    if (!found.length) {
      list.replaceChildren(el("li", { className: "muted", text: _("No suggestion yet.") }));
      return;
    }
    list.replaceChildren.apply(list, found.map(function (s) {
      var parts = [
        el("div", { className: "suggestion-head" }, [
          el("span", { className: "badge kind-" + s.kind, text: s.label }),
          " ",
          el("strong", { className: "suggestion-title", text: s.title })
        ]),
        el("p", { className: "suggestion-reason", text: s.reason }),
        el("p", { className: "suggestion-text", dir: "auto",
          text: s.article ? s.article.card_text : s.text })
      ];
      var cost = s.article ? costs(s.article) : null;
      if (cost) {
        parts.push(cost);
      }
      parts.push(el("div", { className: "suggestion-actions" }, buttons(s)));
      return el("li", { className: "suggestion", dataset: { kind: s.kind, ref: String(s.ref) } },
        parts);
    }));
  }

  function load() {
    return cb.api("GET", base + "/suggestions").then(function (result) {
      draw(result.ok && Array.isArray(result.data) ? result.data : []);
    });
  }

  composer.onSent(function (text) {
    if (pending === null) {
      return;
    }
    var id = pending;
    pending = null;
    cb.api("PUT", "/api/suggestion-uses/" + id + "/sent", { text: text });
  });

  load();
})();
