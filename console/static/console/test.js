/* Kiln console Test page: POST the event to the console's invoke endpoint and show the outcome. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function show(el, visible) { el.hidden = !visible; }
  function ms(value) { return value === null || value === undefined ? "—" : (Math.round(value * 100) / 100) + " ms"; }
  function mb(value) { return value === null || value === undefined ? "—" : value + " MB"; }
  function pretty(value) {
    if (value === null || value === undefined) return "null";
    return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value, null, 2);
  }
  var COLOURS = { succeeded: "#2e7d32", failed: "#c62828", timed_out: "#c62828", throttled: "#ef6c00", running: "#1565c0", queued: "#616161" };

  function render(data) {
    var status = $("result-status");
    status.textContent = data.status;
    status.style.background = COLOURS[data.status] || "#616161";
    $("result-request-id").textContent = data.request_id;
    $("result-link").href = data.console_url;
    $("result-duration").textContent = ms(data.duration_ms);
    $("result-billed").textContent = ms(data.billed_duration_ms);
    $("result-memory").textContent = mb(data.memory_size);
    $("result-max-memory").textContent = mb(data.max_memory_used_mb);
    $("result-init").textContent = data.cold_start ? "cold start, init " + ms(data.init_duration_ms) : "warm (no init)";
    $("result-body").textContent = pretty(data.result);
    show($("result-error-box"), !!data.error);
    $("result-error").textContent = data.error ? JSON.stringify(data.error, null, 2) : "";
    // One span per line; Lambda's START/END/REPORT lines are marked so they stand out from the function's own.
    $("result-logs").replaceChildren(...(data.logs || "").split(/(?<=\n)/).filter((line) => line !== "").map((line) => {
      const span = document.createElement("span");
      if (/^(START|END|REPORT|INIT_START) RequestId|^(START|END|REPORT) /.test(line)) span.className = "kiln-log-marker";
      span.textContent = line;
      return span;
    }));
    show($("invoke-result"), true);
  }

  function onSubmit(event) {
    event.preventDefault();
    var form = event.target, button = $("invoke");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    show($("invoke-error"), false);
    show($("invoke-busy"), true);
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
      body: $("event").value
    }).then(function (response) {
      return response.json().catch(function () { return { error: { message: "HTTP " + response.status + " " + response.statusText } }; })
        .then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (outcome) {
      if (!outcome.ok || outcome.data.error && !outcome.data.request_id) {
        var error = outcome.data.error || {};
        $("invoke-error").textContent = (error.code ? error.code + ": " : "") + (error.message || "The invocation could not be made.");
        show($("invoke-error"), true);
        show($("invoke-result"), false);
      } else {
        render(outcome.data);
      }
    }).catch(function (err) {
      $("invoke-error").textContent = "Could not reach Kiln: " + err;
      show($("invoke-error"), true);
    }).finally(function () {
      show($("invoke-busy"), false);
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("test-form");
    if (form) form.addEventListener("submit", onSubmit);
  });
})();
