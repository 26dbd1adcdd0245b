/* Northwind billing chat widget: Rasa's socket.io protocol (user_uttered / bot_uttered).
 * Buttons are rendered as buttons, links are clickable, a typing indicator shows while the assistant
 * works, and the conversation survives a page reload (session id + transcript in localStorage).
 * A signed-in customer's login token (sessionStorage) is sent when the socket connects. */
(function () {
  "use strict";
  var cfg = window.NORTHWIND || {};
  var SESSION_KEY = "nw.chat.session", HISTORY_KEY = "nw.chat.history", TOKEN_KEY = "nw.customer.token",
      NAME_KEY = "nw.customer.name";
  var $ = function (id) { return document.getElementById(id); };
  var list = $("nw-messages"), typing = $("nw-typing"), input = $("nw-input"), chat = $("nw-chat");
  var socket = null, typingTimer = null;

  function history() { try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch (e) { return []; } }
  function remember(entry) { var h = history(); h.push(entry); localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(-200))); }

  function linkify(text, into) {
    var re = /(https?:\/\/[^\s<>"]+)/g, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      into.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a"); a.href = m[1]; a.textContent = m[1]; a.target = "_blank"; a.rel = "noopener";
      into.appendChild(a); last = m.index + m[1].length;
    }
    into.appendChild(document.createTextNode(text.slice(last)));
  }

  function render(entry, live) {
    var li = document.createElement("li");
    li.className = "nw-msg " + entry.who;
    li.setAttribute("data-who", entry.who);
    linkify(entry.text || "", li);
    if (entry.buttons && entry.buttons.length) {
      var box = document.createElement("div"); box.className = "nw-buttons";
      entry.buttons.forEach(function (b) {
        var btn = document.createElement("button"); btn.type = "button"; btn.textContent = b.title;
        btn.disabled = !live;
        btn.addEventListener("click", function () {
          Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
          send(b.payload, b.title);
        });
        box.appendChild(btn);
      });
      li.appendChild(box);
    }
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  function showTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) { typingTimer = setTimeout(function () { typing.hidden = true; }, 15000); }
  }

  function send(text, shown) {
    if (!text || !socket) { return; }
    var entry = { who: "user", text: shown || text };
    remember(entry); render(entry, true);
    socket.emit("user_uttered", { message: text, session_id: localStorage.getItem(SESSION_KEY) });
    showTyping(true);
  }

  function connect() {
    if (socket) { socket.disconnect(); }
    var token = sessionStorage.getItem(TOKEN_KEY);
    socket = io(cfg.rasaUrl, { path: "/socket.io", transports: ["websocket"], auth: token ? { token: token } : {} });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: localStorage.getItem(SESSION_KEY) });
    });
    socket.on("session_confirm", function (id) { localStorage.setItem(SESSION_KEY, id); chat.setAttribute("data-session", id); });
    socket.on("connect_error", function () {
      showTyping(false);
      if (sessionStorage.getItem(TOKEN_KEY)) { signOut("Your sign-in has expired — please sign in again."); }
    });
    socket.on("bot_uttered", function (msg) {
      showTyping(false);
      var entry = { who: "bot", text: msg.text || "", buttons: msg.quick_replies || msg.buttons || [] };
      remember(entry); render(entry, true);
    });
  }

  function restore() {
    list.innerHTML = "";
    var h = history();
    h.forEach(function (e, i) { render(e, i === h.length - 1); });
  }

  function resetConversation() { localStorage.removeItem(SESSION_KEY); localStorage.removeItem(HISTORY_KEY); list.innerHTML = ""; }

  function signedIn(name) {
    $("nw-signin").hidden = !!name; $("nw-signed-in").hidden = !name; $("nw-name").textContent = name || "";
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(NAME_KEY);
    signedIn(null); resetConversation(); connect();
    if (message) { $("nw-signin-error").textContent = message; }
  }

  $("nw-signin").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target, err = $("nw-signin-error"); err.textContent = "";
    fetch("/site/api/session", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ account_number: form.account_number.value, postal_code: form.postal_code.value }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { err.textContent = res.body.error || "Could not sign in."; return; }
        sessionStorage.setItem(TOKEN_KEY, res.body.token); sessionStorage.setItem(NAME_KEY, res.body.name);
        signedIn(res.body.name); resetConversation(); connect();
      })
      .catch(function () { err.textContent = "Could not sign in."; });
  });
  $("nw-signout").addEventListener("click", function (ev) { ev.preventDefault(); signOut(); });
  $("nw-chat-toggle").addEventListener("click", function () { chat.setAttribute("data-open", "true"); input.focus(); });
  $("nw-chat-close").addEventListener("click", function () { chat.setAttribute("data-open", "false"); });
  $("nw-send").addEventListener("submit", function (ev) {
    ev.preventDefault(); var text = input.value.trim(); input.value = ""; send(text);
  });

  signedIn(sessionStorage.getItem(NAME_KEY));
  restore();
  if (history().length) { chat.setAttribute("data-open", "true"); }
  connect();
})();
