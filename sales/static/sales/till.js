/* BodegaPOS — the till's shift pages: open the register, cash in/out, the blind close, and the
 * helpers the other till scripts share (JSON POST with CSRF and an idempotency key, Spanish
 * field errors). Plain JS, no build step.
 *
 * Every form keeps one idempotency key until it succeeds, so a retry after a lost answer (or
 * after the manager typed a PIN) never does the action twice.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // POST a JSON body; resolves to {status, data, headers} (never rejects on an HTTP error).
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data, headers: r.headers }; });
    });
  }

  function clearErrors(scope) {
    (scope || document).querySelectorAll(".field-error").forEach(function (e) { e.hidden = true; e.textContent = ""; });
    (scope || document).querySelectorAll(".error-box").forEach(function (e) { e.hidden = true; e.textContent = ""; });
  }

  // Put each {field: [messages]} next to its field (data-field), the rest in the scope's box.
  function showErrors(scope, errors, fallback) {
    var box = scope.querySelector(".error-box");
    var leftovers = [];
    Object.keys(errors || {}).forEach(function (key) {
      var messages = [].concat(errors[key]);
      var target = scope.querySelector('.field-error[data-field="' + key + '"]');
      if (target) { target.textContent = messages.join(" "); target.hidden = false; }
      else leftovers = leftovers.concat(messages);
    });
    if (!Object.keys(errors || {}).length && fallback) leftovers.push(fallback);
    if (box && leftovers.length) {
      box.textContent = "";
      leftovers.forEach(function (m) { var p = document.createElement("p"); p.textContent = m; box.appendChild(p); });
      box.hidden = false;
    }
  }

  function failureText(res) {
    if (res.status === 429) {
      var wait = res.headers.get("Retry-After");
      return "Demasiados intentos; espere" + (wait ? " " + wait + " s." : " un momento.");
    }
    if (res.status >= 500) return "Error del servidor (" + res.status + "). Reintente: no se duplicará.";
    return "No se pudo completar (" + res.status + ").";
  }

  function approvalBody(userInput, pinInput) {
    var username = userInput ? userInput.value.trim() : "";
    if (!username) return undefined;
    return { username: username, pin: pinInput ? pinInput.value : "" };
  }

  window.Till = { newKey: newKey, post: post, clearErrors: clearErrors, showErrors: showErrors, failureText: failureText, approvalBody: approvalBody };

  var configNode = $("pos-config");
  var config = configNode ? JSON.parse(configNode.textContent) : {};

  // ------------------------------------------------------------------ open the register
  var openForm = $("open-form");
  if (openForm) {
    var openKey = newKey();
    openForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var scope = $("open-session");
      clearErrors(scope);
      var value = $("opening-float").value.trim().replace(",", ".");
      $("open-submit").disabled = true;
      post(config.sessionsUrl, { idempotency_key: openKey, register: config.register, opening_float: value || "0.00" }).then(function (res) {
        if (res.status === 201 || res.status === 200) { window.location.reload(); return; }
        $("open-submit").disabled = false;
        if (res.status === 409) { window.location.reload(); return; }  // someone opened it meanwhile
        showErrors(scope, res.data.errors, failureText(res));
      }).catch(function () {
        $("open-submit").disabled = false;
        showErrors(scope, null, "Sin conexión con el servidor. Reintente.");
      });
    });
  }

  // ------------------------------------------------------------------ cash in / out
  var dialog = $("movement-dialog");
  if (dialog) {
    var movementKey = newKey();
    var kindInputs = dialog.querySelectorAll('input[name="kind"]');
    var kind = function () { return dialog.querySelector('input[name="kind"]:checked').value; };
    var syncApproval = function () { $("movement-approval").hidden = config.isManager || kind() !== "out"; };
    kindInputs.forEach(function (r) { r.addEventListener("change", syncApproval); });
    var openDialog = function () {
      clearErrors(dialog);
      syncApproval();
      if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
      $("movement-amount").focus();
    };
    $("open-movement").addEventListener("click", openDialog);
    $("movement-cancel").addEventListener("click", function () { dialog.close(); });
    $("movement-form").addEventListener("submit", function (e) {
      e.preventDefault();
      clearErrors(dialog);
      var body = {
        idempotency_key: movementKey,
        kind: kind(),
        amount: $("movement-amount").value.trim().replace(",", "."),
        reason: $("movement-reason").value.trim(),
      };
      var approval = approvalBody($("movement-approver"), $("movement-pin"));
      if (approval && body.kind === "out") body.approval = approval;
      $("movement-submit").disabled = true;
      post("/api/v1/sessions/" + config.session + "/movements", body).then(function (res) {
        $("movement-submit").disabled = false;
        if (res.status === 201 || res.status === 200) {
          dialog.close();
          var done = $("movement-done");
          done.textContent = (res.data.kind === "out" ? "Retiro" : "Ingreso") + " registrado: S/ " + res.data.amount + " (" + res.data.reason + ").";
          done.hidden = false;
          movementKey = newKey();
          ["movement-amount", "movement-reason", "movement-approver", "movement-pin"].forEach(function (id) { $(id).value = ""; });
          return;
        }
        if (res.status === 403 || res.status === 429) $("movement-approval").hidden = false;
        showErrors(dialog, res.data.errors, failureText(res));
      }).catch(function () {
        $("movement-submit").disabled = false;
        showErrors(dialog, null, "Sin conexión con el servidor. Reintente: no se duplicará.");
      });
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "F6") { e.preventDefault(); openDialog(); }
      else if (e.key === "F4") { e.preventDefault(); window.location.assign($("link-sales").href); }
    });
  }

  // ------------------------------------------------------------------ the blind close
  var closeNode = $("close-config");
  if (closeNode) {
    var closeConfig = JSON.parse(closeNode.textContent);
    var closeKey = newKey();
    var scope = $("close-form");
    var countInputs = scope.querySelectorAll("input[data-denomination]");
    var toCents = function (text) {
      var m = /^(\d{1,9})(?:[.,](\d{0,2}))?$/.exec(String(text || "").trim());
      return m ? parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10) : null;
    };
    var fmt = function (c) { return Math.floor(c / 100) + "." + ("0" + (c % 100)).slice(-2); };
    var byDenomination = function () {
      var any = false, cents = 0, counts = {}, bad = false;
      countInputs.forEach(function (input) {
        var v = input.value.trim();
        if (v === "") return;
        if (!/^\d{1,6}$/.test(v)) { bad = true; return; }
        any = true;
        counts[input.dataset.denomination] = parseInt(v, 10);
        cents += parseInt(v, 10) * toCents(input.dataset.denomination);
      });
      return { any: any, cents: cents, counts: counts, bad: bad };
    };
    var sync = function () {
      var d = byDenomination();
      if (d.any) { $("counted-cash").value = fmt(d.cents); $("counted-cash").readOnly = true; }
      else { $("counted-cash").readOnly = false; }
    };
    countInputs.forEach(function (input) { input.addEventListener("input", sync); });
    scope.addEventListener("submit", function (e) {
      e.preventDefault();
      clearErrors(scope);
      var d = byDenomination();
      if (d.bad) { showErrors(scope, { denominations: ["Las cantidades por denominación deben ser números enteros."] }); return; }
      var body = {
        idempotency_key: closeKey,
        counted: {
          cash: ($("counted-cash").value.trim() || "0").replace(",", "."),
          card: ($("counted-card").value.trim() || "0").replace(",", "."),
          yape: ($("counted-yape").value.trim() || "0").replace(",", "."),
          plin: ($("counted-plin").value.trim() || "0").replace(",", "."),
        },
        note: $("close-note").value.trim(),
      };
      if (d.any) body.denominations = d.counts;
      var approval = approvalBody($("close-approver"), $("close-pin"));
      if (approval) body.approval = approval;
      $("close-submit").disabled = true;
      post(closeConfig.closeUrl, body).then(function (res) {
        if (res.status === 200) { window.location.assign(closeConfig.reportUrl); return; }
        $("close-submit").disabled = false;
        if (res.status === 403 || res.status === 429) {
          $("close-approval").hidden = false;
          $("close-approver").focus();
        }
        if (res.status === 409) { showErrors(scope, res.data.errors, "El turno ya está cerrado."); return; }
        showErrors(scope, res.data.errors, failureText(res));
      }).catch(function () {
        $("close-submit").disabled = false;
        showErrors(scope, null, "Sin conexión con el servidor. Reintente: no se duplicará.");
      });
    });
  }
})();
