/* Agent console: the queue (live), the context packet, the live transcript, reply / note / correct /
 * resolve / hand back. Talks to /api/* with the session cookie and the CSRF token from /api/me. */
(function () {
  "use strict";
  var csrf = null, me = null, current = null, transcriptTimer = null;
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    if (method !== "GET") { opts.headers["X-CSRF-Token"] = csrf; }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { window.location.href = "/console/login"; throw new Error("signed out"); }
      return r.json().then(function (b) { if (!r.ok) { throw new Error(b.error || ("HTTP " + r.status)); } return b; });
    });
  }
  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
  function li(content, attrs) {
    var el = document.createElement("li"); text(el, content);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); }); return el;
  }
  function showError(e) { text($("d-error"), e && e.message ? e.message : e); }
  function uuid() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()); }

  function card(h) {
    var el = document.createElement("li"); el.className = "card"; el.setAttribute("data-reason", h.reason_code || "");
    el.setAttribute("data-ref", h.reference);
    var top = document.createElement("div"); top.className = "row";
    top.appendChild(text(document.createElement("b"), h.customer_name || h.account_number || "Visitor"));
    top.appendChild(text(document.createElement("span"), "priority " + Math.round(h.priority)));
    var mid = document.createElement("div"); mid.className = "row muted";
    mid.appendChild(text(document.createElement("span"), (h.reason_code || h.handoff_reason) + (h.amount !== "0.00" ? " · $" + h.amount : "")));
    mid.appendChild(text(document.createElement("span"), h.waiting_minutes + " min"));
    el.appendChild(top); el.appendChild(mid);
    el.addEventListener("click", function () { open(h.reference); });
    return el;
  }

  function refreshQueue() {
    return Promise.all([api("GET", "/api/handoffs?status=waiting"), api("GET", "/api/handoffs?status=mine")])
      .then(function (res) {
        var q = $("queue"), m = $("mine"); q.innerHTML = ""; m.innerHTML = "";
        res[0].handoffs.forEach(function (h) { q.appendChild(card(h)); });
        res[1].handoffs.forEach(function (h) { m.appendChild(card(h)); });
        text($("queue-count"), res[0].handoffs.length);
        text($("agents-online"), res[0].agents_online + " agent(s) online");
      }).catch(function () {});
  }

  function renderTranscript(lines) {
    var box = $("transcript"), atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
    box.innerHTML = "";
    lines.forEach(function (l) {
      var who = l.actor === "agent" ? (l.agent || "agent") : l.actor;
      box.appendChild(li((l.actor === "system" ? "" : who + ": ") + l.text, { "data-actor": l.actor }));
    });
    if (atBottom) { box.scrollTop = box.scrollHeight; }
  }

  function render(d) {
    current = d;
    var p = d.packet || {}, c = p.customer || {};
    $("detail").hidden = false;
    text($("d-title"), d.reference + " — " + (c.name || "unverified visitor"));
    text($("d-status"), d.status + (d.assigned_agent ? " · " + d.assigned_agent : ""));
    text($("d-customer"), c.name ? c.name + " · " + c.account_number + " · customer since " + c.customer_since + " · " + c.email + " · " + c.phone : "Not verified");
    text($("d-reason"), (p.reason_code || d.handoff_reason) + ": " + (d.summary || p.explanation || ""));
    text($("d-next"), p.suggested_next_step || "");
    var f = $("d-findings"); f.innerHTML = "";
    (p.findings || []).forEach(function (x) { f.appendChild(li(x.invoice_number + ": " + x.explanation + " ($" + x.amount + ")")); });
    if (p.case && p.case.invoice_number) { f.appendChild(li("Disputed: " + p.case.invoice_number + (p.case.amount ? " $" + p.case.amount : ""))); }
    var tb = $("d-invoices").querySelector("tbody"); tb.innerHTML = "";
    (p.invoices || []).forEach(function (i) {
      var tr = document.createElement("tr");
      [i.number, i.due_date, "$" + i.total, "$" + i.balance_due].forEach(function (v) { tr.appendChild(text(document.createElement("td"), v)); });
      tb.appendChild(tr);
    });
    text($("d-offers"), "made: " + ((p.offers_made || []).join(", ") || "none") + " · declined: " + ((p.offers_declined || []).join(", ") || "none"));
    var s = (p.sentiment || {}).timeline || [];
    text($("d-sentiment"), s.map(function (t) { return t.tone || t.label; }).join(" → ") + ((p.sentiment || {}).trend ? " (trend " + p.sentiment.trend + ")" : ""));
    var n = $("d-notes"); n.innerHTML = "";
    (p.notes || []).forEach(function (x) { n.appendChild(li(x.agent + ": " + x.text)); });
    var mine = d.status === "assigned" && d.assigned_agent === me.username;
    $("claim").hidden = d.status !== "open";
    ["reply-form", "resolve-form", "handback-form", "correction-form", "plan-form"].forEach(function (id) { $(id).hidden = !mine; });
    renderTranscript(d.transcript || p.transcript || []);
  }

  function open(ref) {
    text($("d-error"), "");
    clearInterval(transcriptTimer);
    return api("GET", "/api/handoffs/" + encodeURIComponent(ref)).then(function (d) {
      render(d);
      transcriptTimer = setInterval(function () {
        api("GET", "/api/handoffs/" + encodeURIComponent(ref) + "/transcript")
          .then(function (t) { renderTranscript(t.transcript); }).catch(function () {});
      }, 1500);
    }).catch(showError);
  }
  function reload() { return current ? open(current.reference) : Promise.resolve(); }
  function act(path, body, then) {
    text($("d-error"), "");
    return api("POST", "/api/handoffs/" + encodeURIComponent(current.reference) + path, body)
      .then(function (r) { if (then) { then(r); } return reload().then(refreshQueue); }).catch(showError);
  }

  $("claim").addEventListener("click", function () { act("/claim", {}); });
  $("reply-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); var v = $("reply").value.trim(); if (!v) { return; } $("reply").value = ""; act("/reply", { text: v });
  });
  $("note-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); var v = $("note").value.trim(); if (!v) { return; } $("note").value = ""; act("/notes", { text: v });
  });
  $("resolve-form").addEventListener("submit", function (ev) { ev.preventDefault(); act("/resolve", { outcome: $("outcome").value }); });
  $("handback-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); var v = $("handback").value.trim(); if (!v) { showError("Write a short summary for the customer."); return; }
    act("/handback", { summary: v });
  });
  $("correction-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, key = form.getAttribute("data-key") || uuid(); form.setAttribute("data-key", key);
    act("/corrections", { kind: $("c-kind").value, invoice_number: $("c-invoice").value.trim(), amount: $("c-amount").value.trim(),
      reason: $("c-reason").value.trim(), idempotency_key: key }, function (r) {
      form.removeAttribute("data-key");
      text($("c-result"), (r.replayed ? "Already done: " : "Done: ") + r.kind + " $" + r.amount + " on " + r.invoice_number + " — " + r.reference);
    });
  });
  $("plan-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, key = form.getAttribute("data-key") || uuid(); form.setAttribute("data-key", key);
    act("/payment-plans", { installments: parseInt($("p-months").value, 10), idempotency_key: key }, function (r) {
      form.removeAttribute("data-key");
      text($("p-result"), (r.replayed ? "Already set up: " : "Plan ") + r.reference + ": " +
        r.installments.map(function (i) { return "$" + i.amount + " on " + i.due_date; }).join(", "));
    });
  });
  $("online").addEventListener("change", function (ev) {
    api("POST", "/api/presence", { online: ev.target.checked }).then(refreshQueue).catch(showError);
  });
  $("logout").addEventListener("click", function () {
    api("POST", "/api/logout", {}).finally(function () { window.location.href = "/console/login"; });
  });

  api("GET", "/api/me").then(function (m) {
    me = m; csrf = m.csrf_token; text($("me"), m.display_name); $("online").checked = !!m.online;
    refreshQueue(); setInterval(refreshQueue, 2000);
  });
})();
