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

  // ------------------------------------------------------------------ returns and voids
  var returnNode = $("return-config");
  if (returnNode) {
    var rc = JSON.parse(returnNode.textContent);
    var returnForm = $("return-form");
    var returnKey = newKey();
    var quoted = { total: "0.00", ok: false };
    var timer = null;
    var wanted = function () {
      var lines = [], bad = false;
      returnForm.querySelectorAll(".return-qty").forEach(function (input) {
        var v = input.value.trim().replace(",", ".");
        if (v === "" || v === "0") return;
        if (!/^\d{1,4}(\.\d{1,3})?$/.test(v)) { bad = true; return; }
        var restock = returnForm.querySelector('.return-restock[data-line="' + input.dataset.line + '"]').checked;
        lines.push({ line: parseInt(input.dataset.line, 10), quantity: v, restock: restock });
      });
      return { lines: lines, bad: bad };
    };
    var requote = function () {
      clearErrors(returnForm);
      var w = wanted();
      returnForm.querySelectorAll(".line-amount").forEach(function (c) { c.textContent = "–"; });
      if (w.bad) { showErrors(returnForm, { lines: ["Cantidades con hasta 3 decimales."] }); quoted.ok = false; return; }
      if (!w.lines.length) { $("return-total").textContent = "0.00"; quoted.ok = false; return; }
      var qs = w.lines.map(function (l) { return "line=" + l.line + "&quantity=" + encodeURIComponent(l.quantity); }).join("&");
      fetch(rc.quoteUrl + "?" + qs, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (d) { return { status: r.status, data: d }; }); })
        .then(function (res) {
          if (res.status !== 200) { showErrors(returnForm, res.data.errors); quoted.ok = false; return; }
          res.data.lines.forEach(function (l) {
            var cell = returnForm.querySelector('.line-amount[data-line="' + l.line + '"]');
            if (cell) cell.textContent = l.amount;
          });
          $("return-total").textContent = res.data.total;
          quoted = { total: res.data.total, ok: !res.data.over_left.length };
          if (res.data.over_left.length) showErrors(returnForm, { lines: res.data.over_left });
        });
    };
    returnForm.querySelectorAll(".return-qty, .return-restock").forEach(function (input) {
      input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(requote, 200); });
      input.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(requote, 50); });
    });
    returnForm.addEventListener("submit", function (e) {
      e.preventDefault();
      clearErrors(returnForm);
      var w = wanted();
      var body = {
        idempotency_key: returnKey,
        sale: rc.sale,
        register: rc.register,
        reason_code: $("return-reason-code").value,
        reason: $("return-reason").value.trim(),
        lines: w.lines,
        refunds: [{ method: $("refund-method").value, amount: quoted.total }],
      };
      var approval = approvalBody($("return-approver"), $("return-pin"));
      if (approval) body.approval = approval;
      $("return-submit").disabled = true;
      post(rc.returnsUrl, body).then(function (res) {
        if (res.status === 201 || res.status === 200) { window.location.assign(res.data.receipt_url); return; }
        $("return-submit").disabled = false;
        if (res.status === 403 || res.status === 429) $("return-approval").hidden = false;
        showErrors(returnForm, res.data.errors, failureText(res));
      }).catch(function () {
        $("return-submit").disabled = false;
        showErrors(returnForm, null, "Sin conexión con el servidor. Reintente: no se duplicará.");
      });
    });

    var voidForm = $("void-form");
    var voidKey = newKey();
    voidForm.addEventListener("submit", function (e) {
      e.preventDefault();
      clearErrors(voidForm);
      var body = { idempotency_key: voidKey, reason: $("void-reason").value.trim(), register: rc.register };
      var approval = approvalBody($("void-approver"), $("void-pin"));
      if (approval) body.approval = approval;
      $("void-submit").disabled = true;
      post(rc.voidUrl, body).then(function (res) {
        if (res.status === 202 || res.status === 200) { window.location.reload(); return; }
        $("void-submit").disabled = false;
        if (res.status === 403 || res.status === 429) $("void-approval").hidden = false;
        showErrors(voidForm, res.data.errors, failureText(res));
      }).catch(function () {
        $("void-submit").disabled = false;
        showErrors(voidForm, null, "Sin conexión con el servidor. Reintente: no se duplicará.");
      });
    });
  }
})();
