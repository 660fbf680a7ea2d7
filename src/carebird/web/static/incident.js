// The incident page's actions, through the incidents API (web/api/incidents.py).
(function () {
  "use strict";
  var cb = window.carebird, _ = cb._;
  var root = document.getElementById("incident");
  if (!root || !document.getElementById("reply-text")) { return; }  // closed: no actions
  var base = "/api/incidents/" + root.dataset.incidentId;
  var result = document.getElementById("incident-result");
  var replyResult = document.getElementById("reply-result");
  var send = document.getElementById("reply-send");
  var updates = 0;

  function say(node, text) { node.textContent = text; }
  function fail(node, r) { say(node, cb.problem ? cb.problem(r) : (r.data && r.data.detail) || String(r.status)); }
  function picked() {
    return Array.prototype.map.call(root.querySelectorAll("input.pick:checked"), function (i) { return Number(i.value); });
  }
  function body() {
    var purpose = document.getElementById("reply-purpose").value;
    if (purpose === "update") { purpose = "update-" + (updates + 1); }
    return { text: document.getElementById("reply-text").value,
             private: document.getElementById("reply-private").checked, purpose: purpose };
  }
  document.getElementById("reply-text").addEventListener("input", function () { send.disabled = true; });
  document.getElementById("reply-preview").addEventListener("click", function () {
    cb.api("POST", base + "/reply/preview", body()).then(function (r) {
      if (!r.ok) { fail(replyResult, r); return; }
      say(replyResult, _("%(ready)d of %(cases)d customers, total cost $%(cost)s", {
        ready: r.data.ready, cases: r.data.cases, cost: r.data.cost.toFixed(3) }) +
        (r.data.over_cap.length ? " · " + _("over the monthly cap") : ""));
      send.disabled = r.data.over_cap.length > 0 || r.data.ready === 0;
    });
  });
  send.addEventListener("click", function () {
    send.disabled = true;
    cb.api("POST", base + "/reply", body()).then(function (r) {
      if (!r.ok) { fail(replyResult, r); return; }
      if (body().purpose.indexOf("update-") === 0) { updates += 1; }
      replyResult.dataset.queued = String(r.data.outbox_ids.length);
      say(replyResult, _("Queued: %(n)d replies", { n: r.data.outbox_ids.length }));
    });
  });
  document.getElementById("incident-close").addEventListener("click", function () {
    var text = document.getElementById("close-text").value;
    cb.api("POST", base + "/close", { final_text: text }).then(function (r) {
      if (!r.ok) { fail(result, r); return; }
      window.location.reload();
    });
  });
  document.getElementById("incident-merge").addEventListener("click", function () {
    var into = Number(document.getElementById("merge-into").value);
    cb.api("POST", base + "/merge", { into_id: into }).then(function (r) {
      if (!r.ok) { fail(result, r); return; }
      window.location.assign("/incidents/" + r.data.id);
    });
  });
  document.getElementById("incident-split").addEventListener("click", function () {
    var title = document.getElementById("split-title").value.trim();
    cb.api("POST", base + "/split", { case_ids: picked(), title: title || null }).then(function (r) {
      if (!r.ok) { fail(result, r); return; }
      window.location.assign(r.data.new ? "/incidents/" + r.data.new.id : window.location.pathname);
    });
  });
}());
