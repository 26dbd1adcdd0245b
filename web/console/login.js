(function () {
  "use strict";
  document.getElementById("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var error = document.getElementById("error"); error.textContent = "";
    fetch("/api/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: ev.target.username.value, password: ev.target.password.value }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { error.textContent = res.body.error || "Could not sign in."; return; }
        window.location.href = "/console";
      })
      .catch(function () { error.textContent = "Could not reach the server."; });
  });
})();
