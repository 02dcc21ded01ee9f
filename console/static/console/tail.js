/* Live tail of a function's logs (the Live tail panel on its page): polls the invocation history every
   half second, and for each invocation that finished since the page opened fetches its log and appends
   its lines (START/END/REPORT included). Filter by substring; Pause stops polling and Resume catches up. */
(function () {
  "use strict";
  const panel = document.getElementById("panel-tail");
  const root = document.getElementById("function-panels");
  if (!panel || !root) return;
  const name = decodeURIComponent(root.dataset.api.split("/").filter(Boolean).pop());
  const out = document.getElementById("tail-log");
  const filter = document.getElementById("tail-filter");
  const pause = document.getElementById("tail-pause");
  const state = document.getElementById("tail-state");
  const interval = Number(panel.dataset.interval) || 500;
  const MAX_LINES = 5000;
  const FINAL = new Set(["succeeded", "failed", "timed_out", "throttled"]);
  const seen = new Set();
  let lines = [];
  let paused = false;
  let primed = false;

  function render() {
    const needle = filter.value;
    const shown = needle ? lines.filter((l) => l.text.includes(needle)) : lines;
    out.replaceChildren(...shown.map((l) => {
      const span = document.createElement("span");
      span.className = "kiln-tail-line" + (/^(START|END|REPORT) RequestId/.test(l.text) ? " kiln-tail-marker" : "");
      span.dataset.requestId = l.requestId;
      span.textContent = l.text + "\n";
      return span;
    }));
    out.scrollTop = out.scrollHeight;
  }

  async function poll() {
    if (paused) return;
    try {
      const response = await fetch("/api/v1/invocations/?limit=25&function=" + encodeURIComponent(name), { credentials: "same-origin" });
      if (!response.ok) throw new Error("history answered " + response.status);
      const page = await response.json();
      const fresh = page.results.filter((r) => FINAL.has(r.status) && !seen.has(r.request_id)).reverse();
      if (!primed) { page.results.forEach((r) => FINAL.has(r.status) && seen.add(r.request_id)); primed = true; return; }
      for (const row of fresh) {
        seen.add(row.request_id);
        const detail = await (await fetch("/api/v1/invocations/" + row.request_id + "/", { credentials: "same-origin" })).json();
        (detail.logs || "").split("\n").filter((t) => t !== "").forEach((text) => lines.push({ text, requestId: row.request_id }));
      }
      if (fresh.length) {
        if (lines.length > MAX_LINES) lines = lines.slice(-MAX_LINES);
        render();
        state.textContent = "Last invocation " + fresh[fresh.length - 1].request_id.slice(0, 8) + " (" + fresh[fresh.length - 1].status + ")";
      }
    } catch (err) {
      state.textContent = "Cannot read the history: " + err.message;
    }
  }

  async function loop() { await poll(); window.setTimeout(loop, interval); }
  filter.addEventListener("input", render);
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    state.textContent = paused ? "Paused." : "Following…";
  });
  document.getElementById("tail-clear").addEventListener("click", () => { lines = []; render(); });
  loop();
})();
