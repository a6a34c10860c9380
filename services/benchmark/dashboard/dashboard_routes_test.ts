import assert from "node:assert/strict";
import { Hono } from "hono";
import { sampleDashboardData } from "./_testing.ts";
import { DASHBOARD_CSP, dashboardRoutes } from "./dashboard_routes.tsx";
import { createMemorySource, type MemoryData } from "./memory_source.ts";

/** The attributes of every element whose opening tag matches `selector` (a regex source). */
function elements(html: string, selector: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const tag of html.matchAll(new RegExp(`<${selector}[^>]*>`, "g"))) {
    const attrs: Record<string, string> = {};
    for (const [, name, value] of tag[0].matchAll(/([\w-]+)="([^"]*)"/g)) attrs[name!] = value!;
    out.push(attrs);
  }
  return out;
}

/** The embedded chart data of the element with id `id`. */
function chartData(html: string, id: string): Record<string, unknown> {
  const match = html.match(
    new RegExp(`<script type="application/json" data-chart-for="${id}">(.*?)</script>`, "s"),
  );
  assert.ok(match, `no chart data for ${id}`);
  return JSON.parse(match[1]!);
}

async function get(
  app: Hono,
  path: string,
): Promise<{ status: number; html: string; res: Response }> {
  const res = await app.request(path);
  return { status: res.status, html: await res.text(), res };
}

Deno.test("dashboardRoutes() lists every model with its latest numbers on the overview", async () => {
  const { data, expected } = sampleDashboardData();
  const { status, html, res } = await get(dashboardRoutes(createMemorySource(data)), "/");
  assert.equal(status, 200);
  assert.equal(res.headers.get("content-security-policy"), DASHBOARD_CSP);
  assert.deepEqual(elements(html, "tr data-model").map((a) => a["data-model"]), [
    "mnist_cnn",
    "mnist_mlp",
  ]);
  assert.match(html, /<a href="\/models\/mnist_mlp">mnist_mlp<\/a>/);
  assert.match(html, /<span class="badge bad">1<\/span>/);
  assert.match(html, /<a href="\/regressions">1 open regression<\/a>/);
  // the latest mnist_mlp run is of "magnitude prune 50%": 480,220 bytes
  assert.match(html, /<td class="num">468\.96 KiB<\/td>/);
  const mlpRuns = data.runs.filter((r) => r.model === expected.model).length;
  assert.match(html, new RegExp(`<td class="num">${mlpRuns}</td>`));
});

Deno.test("dashboardRoutes() draws one chart per series with its points, regressions and change points", async () => {
  const { data, expected } = sampleDashboardData();
  const app = dashboardRoutes(createMemorySource(data));
  const { status, html } = await get(app, `/models/${expected.model}`);
  assert.equal(status, 200);
  const charts = elements(html, `div id="chart-\\d+"`);
  assert.equal(charts.length, expected.series);
  const figures = elements(html, 'figure class="chart-card"');
  const main = figures.map((f, i) => ({ f, chart: charts[i]! }))
    .filter(({ f }) => f["data-recipe"] === expected.recipe);
  assert.deepEqual(main.map(({ f }) => f["data-metric"]), ["size_bytes", "accuracy", "latency_ms"]);
  for (const { chart } of main) assert.equal(chart["data-points"], String(expected.points));
  const latency = main[2]!.chart;
  assert.equal(latency["data-regressions"], "1");
  assert.equal(latency["data-open-regressions"], "1");
  assert.equal(latency["data-change-points"], "1");
  assert.equal(main[1]!.chart["data-regressions"], "1");
  assert.equal(main[1]!.chart["data-open-regressions"], "0");
  const embedded = chartData(html, latency.id!);
  assert.equal((embedded.x as number[]).length, expected.points);
  assert.equal((embedded.y as number[]).length, expected.points);
  assert.equal((embedded.changePoints as number[]).length, 1);
  assert.equal((embedded.regressions as { status: string }[])[0]!.status, "open");
  const others = charts.filter((c) => !main.some((m) => m.chart.id === c.id));
  for (const chart of others) assert.equal(chart["data-points"], String(expected.shortPoints));
  // the regression is listed under its chart, linking to its run
  assert.match(html, new RegExp(`data-regression-id="${expected.regression.id}"`));
  assert.match(html, new RegExp(`href="/runs/${expected.regression.runId}"`));
  // uPlot and the chart script are loaded from this server
  assert.match(html, /<script src="\/assets\/uplot\.iife\.min\.js" defer=""><\/script>/);
});

Deno.test("dashboardRoutes() draws the Pareto scatter and marks the front", async () => {
  const { data, expected } = sampleDashboardData();
  const { html } = await get(
    dashboardRoutes(createMemorySource(data)),
    `/models/${expected.model}`,
  );
  const [pareto] = elements(html, `div id="pareto"`);
  assert.equal(pareto?.["data-points"], String(expected.pareto.all));
  assert.equal(pareto?.["data-front"], String(expected.pareto.front));
  const rows = elements(html, "tr[^>]*data-front");
  assert.equal(rows.filter((r) => r["data-front"] === "true").length, expected.pareto.front);
  const embedded = chartData(html, "pareto") as { points: { front: boolean; name: string }[] };
  assert.deepEqual(
    embedded.points.filter((p) => !p.front).map((p) => p.name),
    [expected.pareto.dominated],
  );
});

Deno.test("dashboardRoutes() downsamples long series to maxPoints", async () => {
  const { data, expected } = sampleDashboardData({ points: 40 });
  const app = dashboardRoutes(createMemorySource(data), { maxPoints: 8 });
  const { html } = await get(app, `/models/${expected.model}`);
  const charts = elements(html, `div id="chart-\\d+"`);
  const counts = new Set(charts.map((c) => c["data-points"]));
  assert.deepEqual([...counts].sort(), ["5", "8"]);
  assert.throws(() => dashboardRoutes(createMemorySource(data), { maxPoints: 0 }), RangeError);
});

Deno.test("dashboardRoutes() escapes hostile names in text, attributes, links and chart data", async () => {
  const evil = `</script><script>alert("x")</script><img src=x onerror=alert(1)>&'`;
  const data: MemoryData = {
    runs: [{
      id: `run/${evil}`,
      model: `m/${evil}`,
      recipe: `h${evil}`,
      recipeName: evil,
      environment: "e",
      environmentLabel: evil,
      startedAt: "2026-01-01T00:00:00Z",
      metrics: [
        { name: `latency_${evil}`, value: 1 },
        { name: "size_bytes", value: 10 },
        { name: "accuracy", value: 0.5 },
      ],
      params: { [evil]: evil },
      tags: { t: evil },
      report: { note: evil },
    }],
    regressions: [{
      id: `reg/${evil}`,
      runId: `run/${evil}`,
      metric: "size_bytes",
      status: "open",
      message: evil,
    }],
  };
  const app = dashboardRoutes(createMemorySource(data), { metrics: "all" });
  const pages = [
    "/",
    `/models/${encodeURIComponent(`m/${evil}`)}`,
    "/regressions",
    `/runs/${encodeURIComponent(`run/${evil}`)}`,
  ];
  for (const path of pages) {
    const { status, html } = await get(app, path);
    assert.equal(status, 200, path);
    assert.doesNotMatch(html, /<script>alert|<img src=x/, path);
    // the only script elements are the page's own (assets and JSON data)
    for (const script of html.matchAll(/<script[^>]*>/g)) {
      assert.match(
        script[0],
        /^<script (src="\/assets\/[\w.]+" defer=""|type="application\/json" data-chart-for="[\w-]+")>$/,
        path,
      );
    }
  }
  const { html } = await get(app, pages[1]!);
  assert.match(html, /&lt;\/script&gt;&lt;script&gt;alert\(&quot;x&quot;\)/);
  const chart = elements(html, `div id="chart-\\d+"`).find((c) =>
    c["aria-label"]?.startsWith("Latency")
  );
  assert.ok(chart);
  assert.equal(
    (chartData(html, chart.id!) as { label: string }).label,
    `Latency </script><script>alert("x")</script><img src=x onerror=alert(1)>&'`,
  );
  const regressions = (await get(app, "/regressions")).html;
  const [form] = elements(regressions, "form");
  assert.equal(
    form?.action,
    `/v1/regressions/${encodeURIComponent(`reg/${evil}`).replaceAll("'", "&#39;")}/acknowledge`,
  );
});

Deno.test("dashboardRoutes() answers 404 pages for an unknown model or run", async () => {
  const { data } = sampleDashboardData();
  const app = dashboardRoutes(createMemorySource(data));
  for (const path of ["/models/nope", "/runs/nope", `/models/${encodeURIComponent("<b>x</b>")}`]) {
    const { status, html } = await get(app, path);
    assert.equal(status, 404, path);
    assert.match(html, /<h1>Not found<\/h1>/);
    assert.doesNotMatch(html, /<b>x/);
  }
  assert.equal((await app.request("/assets/../../deno.json")).status, 404);
  assert.equal((await app.request("/assets/secret.js")).status, 404);
});

Deno.test("dashboardRoutes() lists open regressions with acknowledge forms that post to the API", async () => {
  const { data, expected } = sampleDashboardData();
  const app = dashboardRoutes(createMemorySource(data), { apiBase: "/api/" });
  const { html } = await get(app, "/regressions");
  const rows = elements(html, "tr data-regression-id");
  assert.deepEqual(rows.map((r) => [r["data-regression-id"], r["data-status"]]), [
    [expected.regression.id, "open"],
  ]);
  const forms = elements(html, "form");
  assert.deepEqual(forms.map((f) => [f.method, f.action]), [
    ["post", `/api/v1/regressions/${expected.regression.id}/acknowledge`],
  ]);
  assert.match(html, /latency \+25\.0% against the last 20 runs/);
  assert.match(html, /2\.00 ms/); // the baseline
});

Deno.test("dashboardRoutes() shows a run with its metrics, params, tags and compression report", async () => {
  const { data, expected } = sampleDashboardData();
  const app = dashboardRoutes(createMemorySource(data), { basePath: "/dash/" });
  const { status, html } = await get(app, `/runs/${expected.regression.runId}`);
  assert.equal(status, 200);
  assert.deepEqual(elements(html, "tr data-metric").map((a) => a["data-metric"]), [
    "size_bytes",
    "accuracy",
    "latency_ms",
  ]);
  assert.match(
    html,
    /<pre class="report" id="report" tabindex="0">\{\n {2}&quot;schema&quot;: &quot;modelpress.quantize\/1&quot;/,
  );
  assert.match(html, /<th scope="row">per_channel<\/th>\s*<td>\s*<code>true<\/code>/);
  assert.match(html, /<th scope="row">ci<\/th>\s*<td>\s*<code>nightly<\/code>/);
  assert.match(html, new RegExp(`href="/dash/models/${expected.model}"`));
  assert.match(html, /href="\/dash\/assets\/dashboard\.css"/);
});

Deno.test("dashboardRoutes() serves uPlot from the installed npm package and its own script", async () => {
  const app = new Hono();
  app.route("/", dashboardRoutes(createMemorySource({ runs: [] })));
  app.get("/v1/other", (c) => c.html("<p>not the dashboard</p>"));
  // the dashboard's headers stay on its own pages when it is mounted in another app
  assert.equal((await app.request("/v1/other")).headers.get("content-security-policy"), null);
  assert.equal((await app.request("/")).headers.get("content-security-policy"), DASHBOARD_CSP);
  const dist = new URL("./", import.meta.resolve("uplot"));
  for (
    const [name, file, type] of [
      ["uplot.iife.min.js", new URL("uPlot.iife.min.js", dist), "text/javascript"],
      ["uplot.min.css", new URL("uPlot.min.css", dist), "text/css"],
      ["dashboard.js", new URL("./dashboard_client.js", import.meta.url), "text/javascript"],
      ["dashboard.css", new URL("./dashboard.css", import.meta.url), "text/css"],
    ] as const
  ) {
    const res = await app.request(`/assets/${name}`);
    assert.equal(res.status, 200, name);
    assert.ok(res.headers.get("content-type")?.startsWith(type), name);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), await Deno.readFile(file), name);
  }
  const empty = await (await app.request("/")).text();
  assert.match(empty, /No runs recorded yet/);
});

Deno.test("dashboardRoutes() reports a missing uPlot folder with its path", async () => {
  const app = dashboardRoutes(createMemorySource({ runs: [] }), {
    uplotDir: new URL("file:///nonexistent/uplot/dist/"),
  });
  app.onError((error, c) => c.text(error.message, 500));
  const res = await app.request("/assets/uplot.min.css");
  assert.equal(res.status, 500);
  assert.match(
    await res.text(),
    /^Cannot read dashboard asset 'uplot\.min\.css': file:\/\/\/nonexistent/,
  );
});

Deno.test("dashboardRoutes() charts size, accuracy and latency by default, every metric with 'all'", async () => {
  const data: MemoryData = {
    runs: [{
      id: "r1",
      model: "m",
      recipe: "h",
      environment: "e",
      startedAt: "2026-01-01T00:00:00Z",
      metrics: [
        { name: "gzip_bytes", value: 7, unit: "bytes" },
        { name: "params", value: 235_146, unit: "count" },
        { name: "latency_ms", value: 2, unit: "ms" },
      ],
    }],
  };
  const metricsOf = async (app: Hono): Promise<(string | undefined)[]> =>
    elements((await get(app, "/models/m")).html, `figure class="chart-card"`).map((f) =>
      f["data-metric"]
    );
  assert.deepEqual(await metricsOf(dashboardRoutes(createMemorySource(data))), ["latency_ms"]);
  const all = dashboardRoutes(createMemorySource(data), { metrics: "all" });
  assert.deepEqual(await metricsOf(all), ["gzip_bytes", "latency_ms", "params"]);
  assert.match((await get(all, "/models/m")).html, /<span class="latest">235,146<\/span>/);
});
