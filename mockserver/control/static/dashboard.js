// The otacm dashboard: re-fetch the server-rendered panels, drive the control API.
// No framework and no build step; every panel is an HTML fragment under /_mock/ui/.
(function () {
  "use strict";
  const body = document.body;
  const apiBase = body.dataset.apiBase;
  const apiKey = body.dataset.apiKey;
  const refreshMs = Number(body.dataset.refreshMs) || 2000;
  const state = { filters: "", before: "", selected: null, busy: false,
                  requestFilters: "", requestsBefore: "", exchange: null };

  function $(id) { return document.getElementById(id); }

  // `lenient`: a 400 is a panel too (the Requests view's message for a filter it refused).
  async function fragment(path, lenient) {
    const response = await fetch(path, { credentials: "same-origin" });
    if (!response.ok && !(lenient && response.status === 400)) { throw new Error(path + ": HTTP " + response.status); }
    return response.text();
  }

  // Replace a panel only when its HTML changed, keeping open <details> open:
  // a refresh must not fold the JSON the user is reading.
  function swap(id, html) {
    const panel = $(id);
    if (panel.dataset.html === html) { return false; }
    const open = [...panel.querySelectorAll("details")].map((d) => d.open);
    panel.innerHTML = html;
    panel.dataset.html = html;
    panel.querySelectorAll("details").forEach((d, i) => { if (open[i]) { d.open = true; } });
    return true;
  }

  function ordersPath() {
    const params = new URLSearchParams(state.filters);
    if (state.before) { params.set("before", state.before); }
    return "/_mock/ui/orders?" + params.toString();
  }

  function requestsPath() {
    const params = new URLSearchParams(state.requestFilters);
    if (state.requestsBefore) { params.set("before", state.requestsBefore); }
    return "/_mock/ui/requests?" + params.toString();
  }

  async function refresh() {
    if (state.busy) { return; }
    state.busy = true;
    try {
      const jobs = [
        fragment("/_mock/ui/clock").then((html) => swap("clock", html)),
        fragment(ordersPath()).then((html) => { swap("orders", html); markSelected(); }),
        fragment("/_mock/ui/webhooks").then((html) => swap("webhooks", html)),
        fragment(requestsPath(), true).then((html) => { swap("requests", html); markSelected(); }),
      ];
      if (state.selected) {
        jobs.push(fragment("/_mock/ui/orders/" + state.selected).then((html) => { swap("detail", html); markSelected(); }));
      }
      await Promise.all(jobs);
      body.dataset.refreshed = String(Date.now());
    } catch (error) {
      $("clock-message").textContent = String(error);
    } finally {
      state.busy = false;
    }
  }

  function markSelected() {
    document.querySelectorAll(".order-row").forEach((row) => {
      row.classList.toggle("selected", row.dataset.orderId === state.selected);
    });
    document.querySelectorAll(".request-row").forEach((row) => {
      row.classList.toggle("selected", row.dataset.requestId === state.exchange);
    });
  }

  // An exchange never changes once logged: fetched when opened, not on every refresh.
  async function openExchange(requestId) {
    state.exchange = requestId;
    markSelected();
    try {
      swap("exchange", await fragment("/_mock/ui/requests/" + requestId));
    } catch (error) {
      swap("exchange", "");
      $("exchange").textContent = String(error);
    }
    $("exchange-panel").scrollIntoView({ block: "nearest" });
  }

  async function openOrder(orderId) {
    state.selected = orderId;
    markSelected();
    swap("detail", await fragment("/_mock/ui/orders/" + orderId));
    markSelected();
  }

  async function control(path, payload) {
    const response = await fetch("/_mock/" + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload || {}),
    });
    const answer = await response.json();
    $("clock-message").textContent = response.ok ? "" : answer.message;
    await refresh();
    return answer;
  }

  async function tryOrder(form) {
    const data = new FormData(form);
    const outcome = form.elements.outcome.selectedOptions[0];
    const reference = "UI-" + Date.now().toString(36).toUpperCase();
    const order = {
      partnerId: data.get("partnerId"), sellToOrderReference: reference,
      items: [{ itemNumber: data.get("itemNumber"), quantity: Number(data.get("quantity")),
                visitDate: data.get("visitDate"), visitTime: data.get("visitTime") }],
    };
    if (outcome.dataset.paid === "1") { order.paymentReference = "PAY-" + reference; }
    const headers = { "Content-Type": "application/json", "x-np-api-key": apiKey };
    if (outcome.value) { headers.Prefer = outcome.value; }
    const response = await fetch(apiBase + "/channelManager", { method: "POST", headers, body: JSON.stringify(order) });
    const answer = await response.json();
    if (!response.ok) {
      $("try-message").textContent = "createOrder answered " + response.status + ": " + answer.message;
      await refresh();  // the Requests view shows what was sent
      return;
    }
    $("try-message").textContent = "created " + answer.orderId + " (" + answer.status + ")";
    state.selected = answer.orderId;
    await refresh();
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button, a, .order-row, .request-row");
    if (!target) { return; }
    if (target.dataset.advance) { control("clock/advance", { by: target.dataset.advance, waitForWebhooks: true }); }
    else if (target.dataset.clock) { control("clock/" + target.dataset.clock); }
    else if (target.dataset.retry) { control("webhooks/deliveries/" + target.dataset.retry + "/retry"); }
    else if (target.dataset.page !== undefined) { event.preventDefault(); state.before = target.dataset.page; refresh(); }
    else if (target.dataset.requestsPage !== undefined) {
      event.preventDefault(); state.requestsBefore = target.dataset.requestsPage; refresh();
    }
    else if (target.dataset.openOrder) {
      event.preventDefault();
      openOrder(target.dataset.openOrder).then(() => $("detail-panel").scrollIntoView({ block: "nearest" }));
    }
    else if (target.classList.contains("order-row")) { openOrder(target.dataset.orderId); }
    else if (target.classList.contains("request-row")) { openExchange(target.dataset.requestId); }
  });

  document.addEventListener("keydown", (event) => {  // rows open from the keyboard too
    const row = event.target.closest && event.target.closest(".order-row, .request-row");
    if (!row || event.key !== "Enter") { return; }
    if (row.dataset.orderId) { openOrder(row.dataset.orderId); } else { openExchange(row.dataset.requestId); }
  });

  function onSubmit(id, handler) {
    $(id).addEventListener("submit", (event) => { event.preventDefault(); handler(event.target); });
  }
  onSubmit("advance-custom", (form) => control("clock/advance", { by: form.elements.by.value, waitForWebhooks: true }));
  onSubmit("jump", (form) => control("clock/jump", { to: form.elements.to.value }));
  onSubmit("try-order", tryOrder);
  function filters(form) {  // the form's non-empty fields as a query string
    const params = new URLSearchParams(new FormData(form));
    for (const [key, value] of [...params.entries()]) { if (!value) { params.delete(key); } }
    return params.toString();
  }
  onSubmit("filters", (form) => { state.filters = filters(form); state.before = ""; refresh(); });
  onSubmit("requests-filters", (form) => { state.requestFilters = filters(form); state.requestsBefore = ""; refresh(); });

  setInterval(() => { if (document.visibilityState === "visible") { refresh(); } }, refreshMs);
  body.dataset.ready = "1";
})();
