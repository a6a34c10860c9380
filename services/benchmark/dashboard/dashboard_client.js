// The dashboard's browser script: draws every chart whose data the page embeds (uPlot, loaded
// before this script) and sends the acknowledge forms with fetch. Plain script, no modules, so
// that it runs under the pages' Content-Security-Policy (script-src 'self') as it is.
(function () {
  "use strict";

  /** uPlot instances by element id; tests read them (data lengths, markers drawn). */
  const charts = {};
  globalThis.modelpressCharts = charts;

  const COLORS = {
    line: "#1d4ed8",
    band: "#94a3b8",
    change: "#c2410c",
    open: "#b91c1c",
    acknowledged: "#a16207",
    fixed: "#15803d",
    point: "#64748b",
    front: "#047857",
  };

  function formatBytes(v) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return i === 0 ? v + " B" : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + " " + units[i];
  }

  function format(unit, v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "–";
    if (unit === "bytes") return formatBytes(v);
    if (unit === "ratio") return (v * 100).toFixed(2) + "%";
    if (unit === "ms") return (v < 10 ? v.toFixed(2) : v.toFixed(1)) + " ms";
    if (unit === "count" && Number.isInteger(v)) return v.toLocaleString("en-US");
    const n = String(Number(v.toPrecision(4)));
    return unit ? n + " " + unit : n;
  }

  function widthOf(el) {
    return Math.max(280, Math.floor(el.clientWidth || 600));
  }

  /** Change-point lines and regression rings, drawn over the plot after uPlot's own drawing. */
  function drawOverlays(u, chart) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const pr = globalThis.devicePixelRatio || 1;
    let drawn = 0;
    ctx.save();
    ctx.setLineDash([6 * pr, 4 * pr]);
    ctx.lineWidth = 1.5 * pr;
    ctx.strokeStyle = COLORS.change;
    for (const t of chart.changePoints) {
      const x = Math.round(u.valToPos(t, "x", true));
      if (x < left || x > left + width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.lineWidth = 2.5 * pr;
    for (const r of chart.regressions) {
      const x = u.valToPos(r.x, "x", true);
      const y = u.valToPos(r.y, "y", true);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      ctx.strokeStyle = COLORS[r.status] || COLORS.open;
      ctx.beginPath();
      ctx.arc(x, y, 7 * pr, 0, 2 * Math.PI);
      ctx.stroke();
      drawn++;
    }
    ctx.restore();
    u.modelpress.regressionsDrawn = drawn;
    u.modelpress.changePointsDrawn = chart.changePoints.length;
  }

  function seriesChart(el, chart) {
    const fmt = (v) => format(chart.unit, v);
    const series = [
      {},
      {
        label: chart.label,
        stroke: COLORS.line,
        width: 2,
        points: { show: true, size: 5, fill: COLORS.line },
        value: (_u, v) => fmt(v),
      },
    ];
    const data = [chart.x.slice(), chart.y.slice()];
    if (chart.min && chart.max) {
      for (const [label, values] of [["min", chart.min], ["max", chart.max]]) {
        series.push({
          label,
          stroke: COLORS.band,
          width: 1,
          dash: [4, 4],
          points: { show: false },
          value: (_u, v) => fmt(v),
        });
        data.push(values.slice());
      }
    }
    const opts = {
      width: widthOf(el),
      height: 220,
      scales: { x: { time: true } },
      series,
      axes: [{}, { size: 72, values: (_u, splits) => splits.map(fmt) }],
      hooks: { draw: [(u) => drawOverlays(u, chart)] },
    };
    const u = new uPlot(opts, data, el);
    u.modelpress = { kind: "series", regressionsDrawn: 0, changePointsDrawn: 0 };
    return u;
  }

  /** Each recipe's name beside its point on the scatter. */
  function drawLabels(u, xs, ys, names) {
    const ctx = u.ctx;
    const pr = globalThis.devicePixelRatio || 1;
    ctx.save();
    ctx.font = 12 * pr + "px system-ui, sans-serif";
    ctx.fillStyle = "#334155";
    ctx.textBaseline = "bottom";
    for (let i = 0; i < xs.length; i++) {
      const x = u.valToPos(xs[i], "x", true);
      const y = u.valToPos(ys[i], "y", true);
      const right = x + ctx.measureText(names[i]).width + 10 * pr > u.bbox.left + u.bbox.width;
      ctx.textAlign = right ? "right" : "left";
      ctx.fillText(names[i], right ? x - 8 * pr : x + 8 * pr, y - 6 * pr);
    }
    ctx.restore();
  }

  function paretoChart(el, chart) {
    const points = chart.points.slice().sort((a, b) => a.x - b.x || b.y - a.y);
    const xs = points.map((p) => p.x);
    const all = points.map((p) => p.y);
    const front = points.map((p) => (p.front ? p.y : null));
    const names = points.map((p) => p.name);
    const opts = {
      width: widthOf(el),
      height: 320,
      scales: { x: { time: false } },
      series: [
        { label: "Size", value: (_u, v) => format("bytes", v) },
        {
          label: "Recipe",
          stroke: COLORS.point,
          paths: () => null,
          points: { show: true, space: 0, size: 9, fill: "#ffffff", width: 2 },
          value: (_u, v, _s, i) => (v === null ? "–" : names[i] + ": " + format("ratio", v)),
        },
        {
          label: "Pareto front",
          stroke: COLORS.front,
          width: 2,
          spanGaps: true,
          points: { show: true, space: 0, size: 11, fill: COLORS.front },
          value: (_u, v) => format("ratio", v),
        },
      ],
      axes: [
        { space: 90, values: (_u, splits) => splits.map((v) => formatBytes(v)) },
        { size: 72, values: (_u, splits) => splits.map((v) => format("ratio", v)) },
      ],
    };
    opts.hooks = { draw: [(u) => drawLabels(u, xs, all, names)] };
    const u = new uPlot(opts, [xs, all, front], el);
    u.modelpress = { kind: "pareto", front: front.filter((v) => v !== null).length };
    return u;
  }

  function drawCharts() {
    if (typeof uPlot === "undefined") return;
    for (const script of document.querySelectorAll("script[data-chart-for]")) {
      const el = document.getElementById(script.dataset.chartFor);
      if (!el || charts[el.id]) continue;
      let chart;
      try {
        chart = JSON.parse(script.textContent || "null");
      } catch (error) {
        el.textContent = "Cannot draw chart: " + error.message;
        continue;
      }
      charts[el.id] = chart.kind === "pareto" ? paretoChart(el, chart) : seriesChart(el, chart);
      el.dataset.drawn = "true";
    }
  }

  function wireAcknowledge() {
    const status = document.getElementById("ack-status");
    for (const form of document.querySelectorAll("form.ack")) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const button = form.querySelector("button");
        const row = form.closest("tr");
        if (button) button.disabled = true;
        try {
          const res = await fetch(form.action, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json" },
            body: "{}",
          });
          if (!res.ok) {
            let message = res.status + " " + res.statusText;
            try {
              const body = await res.json();
              if (body && body.error && body.error.message) message = body.error.message;
            } catch (_) { /* not JSON: keep the status line */ }
            throw new Error(message);
          }
          if (row) row.dataset.status = "acknowledged";
          const done = document.createElement("span");
          done.className = "status status-acknowledged";
          done.textContent = "acknowledged";
          form.replaceWith(done);
          if (status) status.textContent = "Regression acknowledged.";
        } catch (error) {
          if (button) button.disabled = false;
          if (status) status.textContent = "Cannot acknowledge the regression: " + error.message;
        }
      });
    }
  }

  let resizeTimer = 0;
  globalThis.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [id, u] of Object.entries(charts)) {
        const el = document.getElementById(id);
        if (el) u.setSize({ width: widthOf(el), height: u.height });
      }
    }, 150);
  });

  drawCharts();
  wireAcknowledge();
})();
