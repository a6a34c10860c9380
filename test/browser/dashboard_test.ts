import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { withServer } from "../support/serve.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { withChromium } from "./chromium.ts";
import { seedDashboard } from "./seed_dashboard.ts";

/** What the page's chart script exposes about one uPlot chart. */
interface DrawnChart {
  id: string;
  kind: string;
  recipe: string | null;
  metric: string | null;
  points: number;
  regressions: number;
  canvas: boolean;
  xLength: number;
  yLength: number;
  regressionsDrawn: number;
  changePointsDrawn: number;
  changePointXs: number[];
  markerRgb: number[] | null;
  /** Pixels of the change-point colour in the canvas column of the first change point. */
  changePointPixels: number;
}

/** Every chart in the page as uPlot drew it (after the chart script ran). */
function drawnCharts(page: Page): Promise<DrawnChart[]> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const charts = (globalThis as any).modelpressCharts ?? {};
    // deno-lint-ignore no-explicit-any
    const doc = (globalThis as any).document;
    // deno-lint-ignore no-explicit-any
    return [...doc.querySelectorAll(".chart")].map((el: any) => {
      const u = charts[el.id];
      const figure = el.closest("figure");
      let markerRgb: number[] | null = null;
      let changePointPixels = 0;
      const data = u && JSON.parse(
        doc.querySelector(`script[data-chart-for="${el.id}"]`).textContent,
      );
      const pr = (globalThis as unknown as { devicePixelRatio: number }).devicePixelRatio || 1;
      const first = data?.regressions?.find((r: { status: string }) => r.status === "open");
      if (first) {
        // the top of the ring drawn round the regressed point
        const x = Math.round(u.valToPos(first.x, "x", true));
        const y = Math.round(u.valToPos(first.y, "y", true) - 7 * pr);
        markerRgb = [...u.ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
      }
      const cp = data?.changePoints?.[0];
      if (cp !== undefined) {
        // the dashed orange (#c2410c) line drawn at the change point, down the plot area
        const x = Math.round(u.valToPos(cp, "x", true));
        const { top, height } = u.bbox;
        const column = u.ctx.getImageData(x - 1, top, 3, height).data;
        for (let i = 0; i < column.length; i += 4) {
          const [r, g, b] = [column[i], column[i + 1], column[i + 2]];
          if (r > 150 && g > 40 && g < 110 && b < 70) changePointPixels++;
        }
      }
      return {
        id: el.id,
        kind: el.dataset.chart,
        recipe: figure?.dataset.recipe ?? null,
        metric: figure?.dataset.metric ?? null,
        points: Number(el.dataset.points),
        regressions: Number(el.dataset.regressions ?? 0),
        canvas: el.querySelector("canvas")?.width > 0,
        xLength: u?.data[0].length ?? -1,
        yLength: u?.data[1].length ?? -1,
        regressionsDrawn: u?.modelpress.regressionsDrawn ?? -1,
        changePointsDrawn: u?.modelpress.changePointsDrawn ?? -1,
        changePointXs: data?.changePoints ?? [],
        markerRgb,
        changePointPixels,
      };
    });
  });
}

Deno.test("dashboard shows the seeded points, a flagged regression and the Pareto front in chromium", async () => {
  const seeded = await seedDashboard();
  const { expected } = seeded;
  try {
    // what the service's detection found in the seeded runs: the latency shift and the accuracy
    // dip, nothing else (the noise of the other runs stays far below the 5% gate)
    assert.deepEqual(
      expected.regressions.map((r) => [r.metric, expected.longRunIds.indexOf(r.runId), r.status])
        .sort(),
      [["accuracy", 10, "acknowledged"], ["latency_ms", expected.shiftIndex, "open"]],
    );
    const regressionsOf = (recipe: string | null, metric: string | null): number =>
      expected.regressions.filter((r) => r.recipe === recipe && r.metric === metric).length;

    await withServer(seeded.app, (base) =>
      withChromium(async (browser) => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
        page.on("console", (message) => {
          if (message.type() === "error") problems.push(`console: ${message.text()}`);
        });
        page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
        page.on("response", (response) => {
          if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
        });

        // the model page: every chart drawn by uPlot with the seeded points
        const res = await page.goto(`${base}/models/${expected.model}`);
        assert.equal(res?.status(), 200);
        await page.waitForFunction(
          () => {
            // deno-lint-ignore no-explicit-any
            const doc = (globalThis as any).document;
            return doc.querySelectorAll(".chart").length > 0 &&
              doc.querySelectorAll(".chart").length ===
                doc.querySelectorAll('.chart[data-drawn="true"]').length;
          },
          undefined,
          { timeout: 10_000 },
        );
        const charts = await drawnCharts(page);
        const series = charts.filter((c) => c.kind === "series");
        assert.equal(series.length, expected.series);
        for (const chart of series) {
          const want = chart.recipe === expected.recipe ? expected.points : expected.shortPoints;
          assert.equal(chart.points, want, `${chart.id} data-points`);
          assert.equal(chart.canvas, true, `${chart.id} has a uPlot canvas`);
          assert.equal(chart.xLength, want, `${chart.id} uPlot x length`);
          assert.equal(chart.yLength, want, `${chart.id} uPlot y length`);
          assert.equal(
            chart.regressions,
            regressionsOf(chart.recipe, chart.metric),
            `${chart.id} (${chart.metric}) regressions as the API lists them`,
          );
          assert.equal(chart.regressionsDrawn, chart.regressions, `${chart.id} markers drawn`);
        }
        const latency = series.find((c) =>
          c.recipe === expected.recipe && c.metric === expected.regression.metric
        );
        assert.ok(latency, "the latency chart of the long series");
        assert.equal(latency.regressions, 1);
        assert.equal(latency.regressionsDrawn, 1);
        const [r, g, b] = latency.markerRgb ?? [];
        assert.ok(
          r! > 140 && g! < 90 && b! < 90,
          `red ring on the canvas, got rgb ${latency.markerRgb}`,
        );
        // one change point, at the first run after the shift, drawn as a line
        assert.equal(latency.changePointsDrawn, 1);
        assert.equal(latency.changePointXs.length, 1);
        const shiftX = await page.evaluate(
          ([id, i]) =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).modelpressCharts[id].data[0][i] as number,
          [latency.id, expected.shiftIndex] as const,
        );
        assert.equal(latency.changePointXs[0], shiftX, "change point at the shifted run");
        assert.ok(
          latency.changePointPixels >= 10,
          `change-point line on the canvas, ${latency.changePointPixels} pixels`,
        );
        for (const chart of series.filter((c) => c !== latency)) {
          assert.equal(chart.changePointsDrawn, 0, `${chart.id} has no change point`);
        }

        // the flagged regression is listed under its chart, as open; the dip as acknowledged
        const item = page.locator(`li.regression[data-regression-id="${expected.regression.id}"]`);
        assert.equal(await item.getAttribute("data-status"), "open");
        assert.equal(await item.isVisible(), true);
        const dip = page.locator(
          `li.regression[data-regression-id="${expected.acknowledged.id}"]`,
        );
        assert.equal(await dip.getAttribute("data-status"), "acknowledged");

        // the Pareto scatter: all recipes, the front drawn as its own series
        const pareto = charts.find((c) => c.kind === "pareto");
        assert.ok(pareto, "a Pareto chart");
        assert.equal(pareto.canvas, true);
        assert.equal(pareto.points, expected.pareto.all);
        assert.equal(pareto.xLength, expected.pareto.all);
        const front = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).modelpressCharts.pareto.data[2].filter((v: unknown) => v !== null)
            .length
        );
        assert.equal(front, expected.pareto.front);
        const frontRows = page.locator('tr[data-front="true"]');
        assert.equal(await frontRows.count(), expected.pareto.front);
        const frontText = (await frontRows.allTextContents()).join("\n");
        for (const name of expected.pareto.frontNames) assert.ok(frontText.includes(name), name);
        for (const name of expected.pareto.dominated) assert.ok(!frontText.includes(name), name);

        await withTempDir(async (dir) => {
          const file = `${dir}/dashboard_model.png`;
          await page.screenshot({ path: file, fullPage: true });
          const png = await Deno.readFile(file);
          assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
          assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes`);
          const keep = Deno.env.get("SCREENSHOT_DIR");
          if (keep) {
            await Deno.mkdir(keep, { recursive: true });
            await Deno.copyFile(file, `${keep}/dashboard_model.png`);
          }
        });

        // the open regressions page: listed, and acknowledged through the API by its button
        await page.goto(`${base}/regressions`);
        assert.equal(
          await page.locator("tr[data-regression-id]").count(),
          expected.regressions.filter((x) => x.status === "open").length,
        );
        const row = page.locator(`tr[data-regression-id="${expected.regression.id}"]`);
        assert.equal(await row.getAttribute("data-status"), "open");
        await row.getByRole("button", { name: "Acknowledge" }).click();
        await page.waitForSelector(
          `tr[data-regression-id="${expected.regression.id}"][data-status="acknowledged"]`,
          { timeout: 5_000 },
        );
        assert.equal(await page.locator("#ack-status").textContent(), "Regression acknowledged.");
        // the service stored it: GET /v1/regressions says so, and the page no longer lists it
        const after = await seeded.regressions();
        assert.equal(after.find((x) => x.id === expected.regression.id)?.status, "acknowledged");
        assert.equal(after.filter((x) => x.status === "open").length, 0);
        await page.reload();
        assert.equal(await page.locator("tr[data-regression-id]").count(), 0);

        // the run page shows its compression report
        await page.goto(`${base}/runs/${expected.regression.runId}`);
        assert.match(
          (await page.locator("#report").textContent()) ?? "",
          /modelpress\.quantize\/1/,
        );

        assert.deepEqual(problems, []);
        await page.close();
      }));
  } finally {
    await seeded.close();
  }
});
