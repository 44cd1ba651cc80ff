/* BodegaPOS — the cashier's checkout page. Plain JS, no build step.
 *
 * The server is the authority on prices, taxes and totals: the running total shown here is an
 * estimate computed in integer céntimos (never floats) so the cashier can take payment; the
 * checkout API prices every line again from the database.
 *
 * Double submits: the confirm button is disabled while a request is in flight, and every cart
 * carries one idempotency key (crypto.randomUUID) that is reused on every retry of that cart, so
 * the server returns the first sale instead of creating a second one.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("pos-config").textContent);
  var $ = function (id) { return document.getElementById(id); };

  var state = {
    lines: [],            // {key, barcode, sku, name, unit, priceCents, qty (string), icbper}
    results: [],
    selected: -1,
    key: newKey(),
    busy: false,
    queue: Promise.resolve(),   // lookups run in scan order
  };

  // ---------------------------------------------------------------- money in integer céntimos

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Fallback for non-secure contexts (plain http on a LAN IP): RFC 4122 v4 from getRandomValues.
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // "12.5" → 1250; null when not a non-negative amount with up to 2 decimals.
  function toCents(text) {
    var s = String(text == null ? "" : text).trim().replace(",", ".");
    if (s === "") return 0;
    var m = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(s);
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }

  // "1.25" → 1250 thousandths; null when not a positive quantity with up to 3 decimals.
  function toMilli(text) {
    var s = String(text == null ? "" : text).trim().replace(",", ".");
    var m = /^(\d{1,4})(?:\.(\d{0,3}))?$/.exec(s);
    if (!m) return null;
    return parseInt(m[1], 10) * 1000 + parseInt(((m[2] || "") + "000").slice(0, 3), 10);
  }

  function fmt(cents) {
    var neg = cents < 0;
    var c = Math.abs(cents);
    var s = Math.floor(c / 100) + "." + ("0" + (c % 100)).slice(-2);
    return neg ? "-" + s : s;
  }

  // price × quantity rounded half up to céntimos, as sales.money does.
  function lineCents(line) {
    var milli = toMilli(line.qty);
    if (milli === null) return 0;
    return Math.floor((line.priceCents * milli + 500) / 1000);
  }

  function icbperCents(line) {
    var milli = toMilli(line.qty);
    if (!line.icbper || milli === null) return 0;
    return Math.floor((toCents(config.icbperRate) * milli + 500) / 1000);
  }

  function totals() {
    var total = 0, icbper = 0;
    state.lines.forEach(function (l) { total += lineCents(l); icbper += icbperCents(l); });
    return { goods: total, icbper: icbper, total: total + icbper };
  }

  // The cash part is due rounded down to S/ 0.10 (customer's favour).
  function cashDue(cents) { return cents - (cents % 10); }

  function paymentsState() {
    var t = totals().total;
    var amounts = {};
    var bad = false;
    ["cash", "card", "yape", "plin"].forEach(function (m) {
      var c = toCents($("pay-" + m).value);
      if (c === null) { bad = true; c = 0; }
      amounts[m] = c;
    });
    var nonCash = amounts.card + amounts.yape + amounts.plin;
    var cashPart = Math.max(t - nonCash, 0);
    var due = cashDue(cashPart);
    var change = amounts.cash > 0 ? amounts.cash - due : 0;
    var missing = amounts.cash > 0 ? Math.max(due - amounts.cash, 0) : cashPart;
    return { amounts: amounts, bad: bad, total: t, nonCash: nonCash, cashDue: due, change: Math.max(change, 0), missing: missing };
  }

  // ------------------------------------------------------------------------------ rendering

  function render() {
    var body = $("cart-body");
    body.innerHTML = "";
    if (!state.lines.length) {
      var tr = document.createElement("tr");
      tr.className = "empty";
      tr.innerHTML = '<td colspan="6">Carrito vacío. Escanee un producto para empezar.</td>';
      body.appendChild(tr);
    }
    state.lines.forEach(function (line, i) {
      var tr = document.createElement("tr");
      tr.dataset.index = String(i);
      tr.dataset.barcode = line.barcode || "";
      var qtyOk = toMilli(line.qty) !== null && toMilli(line.qty) > 0;
      tr.innerHTML =
        '<td class="num">' + (i + 1) + "</td>" +
        '<td class="name"></td>' +
        '<td class="num">' + fmt(line.priceCents) + "</td>" +
        '<td class="qty"><input type="text" inputmode="decimal" class="qty-input" aria-label="Cantidad"></td>' +
        '<td class="num amount">' + fmt(lineCents(line) + icbperCents(line)) + "</td>" +
        '<td><button type="button" class="remove" title="Quitar (Supr)" aria-label="Quitar">✕</button></td>';
      tr.querySelector(".name").textContent = line.name + (line.icbper ? " (+ICBPER)" : "");
      var err = document.createElement("div");
      err.className = "field-error line-error";
      err.hidden = true;
      tr.querySelector(".name").appendChild(err);
      var input = tr.querySelector(".qty-input");
      input.value = line.qty;
      if (!qtyOk) input.classList.add("invalid");
      input.addEventListener("input", function () {
        line.qty = input.value;
        input.classList.toggle("invalid", !(toMilli(line.qty) > 0));
        tr.querySelector(".amount").textContent = fmt(lineCents(line) + icbperCents(line));
        renderTotals();
      });
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); focusScan(); }
        if (e.key === "Delete") { e.preventDefault(); removeLine(i); }
      });
      tr.querySelector(".remove").addEventListener("click", function () { removeLine(i); });
      body.appendChild(tr);
    });
    renderTotals();
  }

  function renderTotals() {
    var t = totals();
    var items = state.lines.length;
    $("t-items").textContent = String(items);
    $("t-total").textContent = fmt(t.total);
    $("t-icbper").textContent = fmt(t.icbper);
    $("t-icbper-row").hidden = t.icbper === 0;
    var p = paymentsState();
    $("t-cash-due").textContent = fmt(p.cashDue);
    $("t-cash-due-row").hidden = p.cashDue === p.total - p.nonCash || p.amounts.cash === 0;
    $("change").textContent = fmt(p.change);
    $("missing").textContent = fmt(p.missing);
    $("missing-row").hidden = p.missing === 0 || items === 0;
    var limit = toCents(config.boletaIdThreshold);
    var factura = docType() === "01";
    $("customer-hint").textContent = factura
      ? "(factura: RUC obligatorio)"
      : (t.total > limit ? "(obligatorio: boleta mayor a S/ " + config.boletaIdThreshold + ")" : "(opcional hasta S/ " + config.boletaIdThreshold + ")");
    $("customer").classList.toggle("required", factura || t.total > limit);
    $("confirm").disabled = state.busy || items === 0;
  }

  // ------------------------------------------------------------------------------ the cart

  function addProduct(p) {
    var existing = state.lines.find(function (l) { return l.sku === p.sku; });
    if (existing) {
      var milli = toMilli(existing.qty) || 0;
      existing.qty = String((milli + 1000) / 1000);
    } else {
      state.lines.push({
        barcode: p.barcode || "",
        sku: p.sku,
        name: p.name,
        unit: p.unit,
        priceCents: toCents(p.price) || 0,
        qty: "1",
        icbper: !!p.icbper,
      });
    }
    hideResults();
    clearErrors();
    showScanError("");
    render();
    // Keep the line just scanned in sight (long carts scroll) and flash it.
    var index = state.lines.findIndex(function (l) { return l.sku === p.sku; });
    var row = document.querySelector('#cart-body tr[data-index="' + index + '"]');
    if (row) {
      row.scrollIntoView({ block: "nearest" });
      row.classList.add("flash");
    }
  }

  function removeLine(i) {
    state.lines.splice(i, 1);
    clearErrors();
    render();
    focusScan();
  }

  function focusScan() {
    var scan = $("scan");
    scan.focus();
    scan.select();
  }

  function showScanError(text) {
    var e = $("scan-error");
    e.textContent = text;
    e.hidden = !text;
  }

  function hideResults() {
    state.results = [];
    state.selected = -1;
    $("results").hidden = true;
    $("results").innerHTML = "";
  }

  function showResults(list) {
    state.results = list;
    state.selected = 0;
    var ul = $("results");
    ul.innerHTML = "";
    list.forEach(function (p, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.dataset.index = String(i);
      li.textContent = p.name + " — S/ " + p.price + (p.barcode ? " · " + p.barcode : "") + " · stock " + p.stock;
      li.addEventListener("mousedown", function (e) { e.preventDefault(); addProduct(p); focusScan(); });
      ul.appendChild(li);
    });
    ul.hidden = false;
    highlight();
  }

  function highlight() {
    Array.prototype.forEach.call($("results").children, function (li, i) {
      li.classList.toggle("selected", i === state.selected);
      li.setAttribute("aria-selected", i === state.selected ? "true" : "false");
    });
  }

  function lookup(q) {
    var url = config.productsUrl + "?q=" + encodeURIComponent(q) + "&register=" + encodeURIComponent(config.register);
    return fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (r) {
      if (r.status === 403 || r.status === 401) throw new Error("Su sesión venció. Vuelva a ingresar.");
      if (r.status === 429) throw new Error("Demasiadas búsquedas; espere un momento.");
      if (!r.ok) throw new Error("No se pudo buscar el producto (error " + r.status + ").");
      return r.json();
    }).then(function (list) {
      var exact = list.filter(function (p) { return p.barcode === q || p.sku === q; });
      var clearTyped = function () { if ($("scan").value.trim() === q) $("scan").value = ""; };
      if (exact.length === 1) { addProduct(exact[0]); clearTyped(); return; }
      if (!list.length) { showScanError("Producto no encontrado: " + q); $("scan").focus(); return; }
      if (list.length === 1 && !/^\d+$/.test(q)) { addProduct(list[0]); clearTyped(); return; }
      showResults(list);
    }).catch(function (err) { showScanError(err.message); });
  }

  // ------------------------------------------------------------------------------ errors

  function clearErrors() {
    document.querySelectorAll(".field-error").forEach(function (e) {
      if (e.id === "scan-error") return;
      e.textContent = "";
      e.hidden = true;
    });
    var box = $("form-errors");
    box.innerHTML = "";
    box.hidden = true;
  }

  // Field keys from the API: "customer.doc_number", "customer__doc_number", "lines.0.quantity",
  // "lines[0].quantity", "payments", "__all__"... all mapped onto the page's fields.
  function showErrors(errors) {
    clearErrors();
    var leftovers = [];
    Object.keys(errors || {}).forEach(function (rawKey) {
      var messages = [].concat(errors[rawKey]).map(function (m) {
        return typeof m === "string" ? m : (m && m.message) || JSON.stringify(m);
      });
      var key = rawKey.replace(/\[(\d+)\]/g, ".$1").replace(/__/g, ".");
      var lineMatch = /^lines\.(\d+)/.exec(key);
      if (lineMatch) {
        var row = document.querySelector('#cart-body tr[data-index="' + lineMatch[1] + '"] .line-error');
        if (row) { row.textContent = messages.join(" "); row.hidden = false; return; }
      }
      var target = document.querySelector('[data-field="' + key + '"]') ||
        document.querySelector('[data-field="' + key.split(".")[0] + '"]');
      if (key === "lines" || (lineMatch && !target)) target = $("lines-error");
      if (target) {
        target.textContent = (target.textContent ? target.textContent + " " : "") + messages.join(" ");
        target.hidden = false;
      } else {
        leftovers = leftovers.concat(messages);
      }
    });
    if (leftovers.length) {
      var box = $("form-errors");
      leftovers.forEach(function (m) { var p = document.createElement("p"); p.textContent = m; box.appendChild(p); });
      box.hidden = false;
    }
  }

  function showGeneralError(text) {
    clearErrors();
    var box = $("form-errors");
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    box.hidden = false;
  }

  // ------------------------------------------------------------------------------ checkout

  function docType() {
    var checked = document.querySelector('input[name="document_type"]:checked');
    return checked ? checked.value : "03";
  }

  // The token rendered into the page (works with CSRF_USE_SESSIONS too), else the cookie.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    var m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function buildBody() {
    var body = {
      idempotency_key: state.key,
      register: config.register,
      document_type: docType(),
      lines: state.lines.map(function (l) {
        return l.barcode ? { barcode: l.barcode, quantity: String(l.qty).trim().replace(",", ".") }
                         : { sku: l.sku, quantity: String(l.qty).trim().replace(",", ".") };
      }),
      payments: [],
    };
    var number = $("customer-doc-number").value.trim();
    var name = $("customer-name").value.trim();
    if (number || name || docType() === "01") {
      body.customer = { doc_type: $("customer-doc-type").value, doc_number: number, name: name };
    }
    var p = paymentsState();
    ["card", "yape", "plin"].forEach(function (m) {
      if (p.amounts[m] > 0) body.payments.push({ method: m, amount: fmt(p.amounts[m]) });
    });
    if (p.amounts.cash > 0) body.payments.push({ method: "cash", amount: fmt(p.amounts.cash) });
    return body;
  }

  function setBusy(busy) {
    state.busy = busy;
    var btn = $("confirm");
    btn.disabled = busy || !state.lines.length;
    btn.textContent = busy ? "Procesando…" : "Confirmar venta (F9)";
    document.getElementById("pos").classList.toggle("busy", busy);
  }

  function confirmSale() {
    if (state.busy || !state.lines.length) return;
    var p = paymentsState();
    if (p.bad) { showErrors({ payments: ["Revise los importes de pago: use números con hasta 2 decimales."] }); return; }
    if (!p.amounts.cash && !p.nonCash) {
      // Nothing typed: the cashier means exact cash.
      $("pay-cash").value = fmt(p.cashDue);
    }
    var body = buildBody();
    setBusy(true);
    clearErrors();
    fetch(config.checkoutUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data, headers: r.headers }; });
    }).then(function (res) {
      if ((res.status === 201 || res.status === 200) && res.data.receipt_url) {
        window.location.assign(res.data.receipt_url);
        return;
      }
      setBusy(false);
      if (res.status === 400 && res.data.errors) { showErrors(res.data.errors); return; }
      if (res.status === 409) {
        if (res.data.errors) showErrors(res.data.errors);
        else showGeneralError(res.data.detail || res.data.error || "La venta no se pudo completar (stock o solicitud repetida).");
        return;
      }
      if (res.status === 403) { showGeneralError(res.data.detail || "Su sesión venció. Recargue la página e ingrese de nuevo."); return; }
      if (res.status === 429) {
        var wait = res.headers.get("Retry-After");
        showGeneralError("Demasiadas ventas seguidas; reintente" + (wait ? " en " + wait + " s." : " en un momento."));
        return;
      }
      showGeneralError("Error del servidor (" + res.status + "). Reintente: la venta no se duplicará.");
    }).catch(function () {
      // Network failure: the sale may or may not exist; retrying with the same key is safe.
      setBusy(false);
      showGeneralError("Sin conexión con el servidor. Reintente: la venta no se duplicará.");
    });
  }

  function resetSale() {
    state.lines = [];
    state.key = newKey();
    ["pay-cash", "pay-card", "pay-yape", "pay-plin", "customer-doc-number", "customer-name"].forEach(function (id) { $(id).value = ""; });
    document.querySelector('input[name="document_type"][value="03"]').checked = true;
    $("customer-doc-type").value = "1";
    hideResults();
    clearErrors();
    showScanError("");
    render();
    focusScan();
  }

  // ------------------------------------------------------------------------------ wiring

  $("scan-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("scan").value.trim();
    if (state.results.length && state.selected >= 0) { addProduct(state.results[state.selected]); $("scan").value = ""; return; }
    if (!q) return;
    // A scanner types the next code while this lookup is in flight: clear a scanned code at
    // once, and run lookups one after another, in scan order. Typed names stay in the box.
    if (/^\d+$/.test(q)) $("scan").value = "";
    state.queue = state.queue.then(function () { return lookup(q); });
  });

  $("scan").addEventListener("keydown", function (e) {
    if (!state.results.length) return;
    if (e.key === "ArrowDown") { e.preventDefault(); state.selected = Math.min(state.selected + 1, state.results.length - 1); highlight(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); state.selected = Math.max(state.selected - 1, 0); highlight(); }
    else if (e.key === "Escape") { hideResults(); }
  });
  $("scan").addEventListener("input", function () { if (state.results.length) hideResults(); });

  document.querySelectorAll('input[name="document_type"]').forEach(function (r) {
    r.addEventListener("change", function () {
      if (docType() === "01") $("customer-doc-type").value = "6";
      renderTotals();
    });
  });
  ["pay-cash", "pay-card", "pay-yape", "pay-plin"].forEach(function (id) {
    $(id).addEventListener("input", renderTotals);
    $(id).addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); confirmSale(); } });
  });
  document.querySelectorAll("[data-quick]").forEach(function (b) {
    b.addEventListener("click", function () {
      var m = b.dataset.quick;
      ["pay-cash", "pay-card", "pay-yape", "pay-plin"].forEach(function (id) { $(id).value = ""; });
      var t = totals().total;
      $("pay-" + m).value = fmt(m === "cash" ? cashDue(t) : t);
      renderTotals();
    });
  });
  $("confirm").addEventListener("click", confirmSale);
  $("clear").addEventListener("click", function () {
    if (!state.lines.length || window.confirm("¿Cancelar la venta en curso?")) resetSale();
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "F2") { e.preventDefault(); focusScan(); }
    else if (e.key === "F7") { e.preventDefault(); $("customer-doc-number").focus(); }
    else if (e.key === "F8") { e.preventDefault(); $("pay-cash").focus(); $("pay-cash").select(); }
    else if (e.key === "F9" || (e.key === "Enter" && (e.ctrlKey || e.metaKey))) { e.preventDefault(); confirmSale(); }
  });

  render();
  focusScan();
  $("pos").dataset.ready = "true";  // the handlers are attached: scans are taken from now on
})();
