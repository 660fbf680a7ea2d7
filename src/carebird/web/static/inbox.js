// The inbox refreshes itself: every 2 s it asks the API for the 50 most urgent cases (by
// priority, with its reasons) and redraws the table. Data only ever goes through textContent, never innerHTML.
(function () {
  "use strict";

  var URL = "/api/cases?sort=priority&limit=50";
  var EVERY_MS = 2000;
  var table = document.getElementById("inbox");
  if (!table) {
    return;
  }
  var body = table.tBodies[0];
  var total = document.getElementById("inbox-total");
  var labels = {};
  try {
    labels = JSON.parse(table.dataset.labels || "{}");
  } catch (e) {
    labels = {};
  }
  var zone = table.dataset.zone || "UTC";
  var parts;
  try {
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
  } catch (e) {
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: "UTC", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
  }

  // Same shape as the server's `when` filter: 2026-03-02 10:00.
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return "";
    }
    var p = {};
    parts.formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  function caseRow(c) {
    var tr = document.createElement("tr");
    var id = Number(c.id);
    tr.dataset.id = String(id);
    tr.className = "status-" + String(c.status).replace(/[^a-z_]/g, "");
    var first = cell(tr, "");
    var link = document.createElement("a");
    link.href = "/cases/" + encodeURIComponent(String(id));
    link.textContent = String(id);
    first.appendChild(link);
    cell(tr, labels[c.status] || c.status);
    cell(tr, c.customer_handle);
    cell(tr, c.network);
    cell(tr, c.priority_text).className = "reasons";
    cell(tr, c.subject);
    cell(tr, c.message_count);
    var last = cell(tr, "");
    var time = document.createElement("time");
    time.dateTime = String(c.last_activity_at);
    time.textContent = when(c.last_activity_at);
    last.appendChild(time);
    return tr;
  }

  function draw(page) {
    var rows = page.items.map(caseRow);
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      tr.className = "empty";
      var td = cell(tr, table.dataset.empty || "");
      td.colSpan = 7;
      rows.push(tr);
    }
    body.replaceChildren.apply(body, rows);
    if (total) {
      total.textContent = String(page.total) + " " + (table.dataset.countWord || "");
    }
  }

  function poll() {
    if (document.hidden) {
      window.setTimeout(poll, EVERY_MS);
      return;
    }
    fetch(URL, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) {
          window.location.assign("/login?next=%2F");
          return null;
        }
        return r.ok ? r.json() : null;
      })
      .then(function (page) {
        if (page && Array.isArray(page.items)) {
          draw(page);
        }
      })
      .catch(function () { /* offline for a moment: try again on the next tick */ })
      .then(function () { window.setTimeout(poll, EVERY_MS); });
  }

  window.setTimeout(poll, EVERY_MS);
})();
