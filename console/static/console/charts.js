/* Kiln console charts: every element with data-kiln-chart draws the series of GET /api/v1/metrics/
   with Chart.js. Attributes: data-metrics="Invocations:Sum,Errors:Sum" (metric:stat pairs, one line
   each), data-function (optional: one function, else the account), data-title. A range picker
   (.kiln-range buttons with data-hours) redraws every chart on the page: 1 h by the minute, 24 h by
   15 minutes, 7 d by the hour (the API's limit is 1,440 points). */
(function () {
  "use strict";
  const PERIODS = { 1: 60, 24: 900, 168: 3600 };
  const COLOURS = ["#1565c0", "#c62828", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f"];
  const charts = [];

  function label(t, hours) {
    const d = new Date(t);
    return hours > 24 ? d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  async function series(metric, stat, fn, hours) {
    const end = new Date();
    const start = new Date(end.getTime() - hours * 3600 * 1000);
    const query = new URLSearchParams({ metric, stat, period: String(PERIODS[hours]), start: start.toISOString(), end: end.toISOString() });
    if (fn) query.set("function", fn);
    const response = await fetch("/api/v1/metrics/?" + query, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ? data.error.message : "metrics answered " + response.status);
    return data;
  }

  async function draw(box, hours) {
    const specs = box.dataset.metrics.split(",").map((s) => s.split(":"));
    const canvas = box.querySelector("canvas");
    const status = box.querySelector(".kiln-chart-status");
    try {
      const results = await Promise.all(specs.map(([metric, stat]) => series(metric, stat, box.dataset.function, hours)));
      const labels = results[0].points.map((p) => label(p.t, hours));
      const datasets = results.map((r, i) => ({
        label: r.metric + (specs[i][1] && specs[i][1] !== "Sum" ? " " + specs[i][1] : "") + (r.unit && r.unit !== "Count" && specs[i][1] !== "SampleCount" ? " (" + r.unit + ")" : ""),
        data: r.points.map((p) => p.value), borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length] + "33",
        spanGaps: true, pointRadius: 0, borderWidth: 2, tension: 0.2, fill: false,
      }));
      const total = results.reduce((n, r) => n + r.points.filter((p) => p.value !== null && p.value !== 0).length, 0);
      box.dataset.points = String(total);
      if (box.chart) { box.chart.data.labels = labels; box.chart.data.datasets = datasets; box.chart.update(); }
      else if (window.Chart) {
        box.chart = new window.Chart(canvas, { type: "line", data: { labels, datasets },
          options: { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
            scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 8 } } }, plugins: { legend: { position: "bottom" } } } });
      }
      status.textContent = total ? "" : "No data in this range yet.";
    } catch (err) {
      status.textContent = "Cannot load the metrics: " + err.message;
    }
  }

  function drawAll(hours) { charts.forEach((box) => draw(box, hours)); }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-kiln-chart]").forEach((box) => charts.push(box));
    if (!charts.length) return;
    let hours = 1;
    document.querySelectorAll(".kiln-range button").forEach((button) => {
      button.addEventListener("click", () => {
        hours = Number(button.dataset.hours);
        document.querySelectorAll(".kiln-range button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
        drawAll(hours);
      });
    });
    drawAll(hours);
    window.setInterval(() => { if (!document.hidden) drawAll(hours); }, 30000);
  });
})();
