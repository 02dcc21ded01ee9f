/* The console's usage page: GET /api/v1/usage/?month=YYYY-MM shown as figures, a per-day chart and a
   per-function table. Figures are exact decimal strings from the API and are shown as they come. */
(function () {
  "use strict";
  const root = document.querySelector(".kiln-usage");
  const input = document.getElementById("usage-month");
  const error = document.getElementById("usage-error");
  const set = (id, text) => { document.getElementById(id).textContent = text; };
  let chart = null;

  async function load(month) {
    const response = await fetch("/api/v1/usage/" + (month ? "?month=" + encodeURIComponent(month) : ""), { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) { error.hidden = false; error.textContent = data.error ? data.error.message : "usage answered " + response.status; return; }
    error.hidden = true;
    input.value = data.month;
    set("usage-requests", String(data.requests));
    set("usage-gb-seconds", data.gb_seconds);
    set("usage-cost", data.cost_usd);
    set("usage-gross", data.gross_cost_usd !== undefined ? data.gross_cost_usd : "—");
    set("usage-billable-requests", String(data.billable.requests));
    set("usage-billable-gb", data.billable.gb_seconds);
    set("usage-free-requests", String(data.free_tier.requests));
    set("usage-free-gb", String(data.free_tier.gb_seconds));
    set("usage-price-requests", data.prices.per_million_requests);
    set("usage-price-gb", data.prices.per_gb_second);
    const body = document.querySelector("#usage-functions tbody");
    body.replaceChildren(...data.functions.map((f) => {
      const row = document.createElement("tr");
      row.className = "usage-function";
      [f.name, String(f.requests), f.gb_seconds, f.cost_usd].forEach((v) => { const td = document.createElement("td"); td.textContent = v; row.append(td); });
      return row;
    }));
    if (!data.functions.length) { const row = document.createElement("tr"); row.innerHTML = '<td colspan="4">Nothing ran this month.</td>'; body.append(row); }
    const days = data.days || [];
    const config = { type: "bar", data: { labels: days.map((d) => d.date.slice(5)), datasets: [
      { label: "Requests", data: days.map((d) => d.requests), backgroundColor: "#1565c0aa", yAxisID: "y" },
      { label: "GB-seconds", data: days.map((d) => Number(d.gb_seconds)), backgroundColor: "#ef6c00aa", yAxisID: "y1" }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } } };
    if (window.Chart) { if (chart) chart.destroy(); chart = new window.Chart(document.getElementById("usage-chart"), config); }
    root.dataset.loaded = data.month;
  }

  document.getElementById("usage-month-form").addEventListener("submit", (e) => { e.preventDefault(); load(input.value); });
  load(root.dataset.month);
})();
