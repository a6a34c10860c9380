/** @jsxImportSource hono/jsx */
/**
 * Chart figures: the data a chart draws, embedded as JSON beside an element that
 * `dashboard_client.js` fills with uPlot, plus the text a reader without the chart needs.
 * @module
 */
import type { JSX } from "hono/jsx/jsx-runtime";
import { formatBytes, formatTime, formatValue, metricLabel, plural, unitOf } from "./_format.ts";
import { scriptJson } from "./_json.ts";
import type { Links } from "./_layout.tsx";
import type { ParetoData, SeriesData, SeriesKey } from "./source.ts";

/** What the chart script reads for a time series (times in Unix seconds). */
export interface SeriesChartData {
  /** Always "series". */
  readonly kind: "series";
  /** The metric's label. */
  readonly label: string;
  /** "bytes", "ratio", "ms" or another unit. */
  readonly unit: string;
  /** Times of the points. */
  readonly x: readonly number[];
  /** Values of the points. */
  readonly y: readonly number[];
  /** Bucket minimums (null where a point is one run), or null when no point is a bucket. */
  readonly min: readonly (number | null)[] | null;
  /** Bucket maximums, as `min`. */
  readonly max: readonly (number | null)[] | null;
  /** Regression markers. */
  readonly regressions: readonly { x: number; y: number; status: string; runId: string }[];
  /** Change-point lines (times). */
  readonly changePoints: readonly number[];
}

/** What the chart script reads for the Pareto scatter. */
export interface ParetoChartData {
  /** Always "pareto". */
  readonly kind: "pareto";
  /** Every recipe: size in bytes, accuracy, whether it is on the front. */
  readonly points: readonly { x: number; y: number; front: boolean; name: string }[];
}

/** Props of {@linkcode SeriesChart}. */
export interface SeriesChartProps {
  /** The element id (unique in the page). */
  readonly id: string;
  /** The series. */
  readonly seriesKey: SeriesKey;
  /** Its data. */
  readonly data: SeriesData;
  /** Links. */
  readonly links: Links;
}

function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/**
 * A time-series chart of one metric: points, regression markers and change-point lines, with
 * `data-points`, `data-regressions` (markers), `data-open-regressions` and `data-change-points`
 * for tests and the list of regressions as text.
 *
 * @param props The id, series, its data and links.
 * @returns The figure.
 * @example
 * ```tsx ignore
 * <SeriesChart id="chart-1" seriesKey={key} data={await source.series(key, { maxPoints: 500 })} links={links} />
 * ```
 */
export function SeriesChart(props: SeriesChartProps): JSX.Element {
  const { seriesKey: key, data } = props;
  const unit = unitOf(key);
  const label = metricLabel(key.metric);
  const bucketed = data.points.some((p) => p.min !== undefined || p.max !== undefined);
  const chart: SeriesChartData = {
    kind: "series",
    label,
    unit,
    x: data.points.map((p) => seconds(p.time)),
    y: data.points.map((p) => p.value),
    min: bucketed ? data.points.map((p) => p.min ?? null) : null,
    max: bucketed ? data.points.map((p) => p.max ?? null) : null,
    regressions: data.regressions.map((r) => ({
      x: seconds(r.time),
      y: r.value,
      status: r.status,
      runId: r.runId,
    })),
    changePoints: data.changePoints.map((c) => seconds(c.time)),
  };
  const latest = data.points.at(-1);
  const open = data.regressions.filter((r) => r.status === "open").length;
  const summary = `${label} of ${key.recipeName} on ${key.environmentLabel}: ` +
    `${plural(data.points.length, "point")}, latest ${formatValue(latest?.value ?? null, unit)}, ` +
    `${plural(data.regressions.length, "regression")} (${open} open), ` +
    `${plural(data.changePoints.length, "change point")}`;
  return (
    <figure
      class="chart-card"
      data-metric={key.metric}
      data-recipe={key.recipe}
      data-environment={key.environment}
    >
      <figcaption>
        <span class="metric">{label}</span>
        <span class="latest">{formatValue(latest?.value ?? null, unit)}</span>
      </figcaption>
      <div
        id={props.id}
        class="chart"
        role="img"
        aria-label={summary}
        data-chart="series"
        data-points={String(data.points.length)}
        data-regressions={String(data.regressions.length)}
        data-open-regressions={String(open)}
        data-change-points={String(data.changePoints.length)}
      >
      </div>
      <script
        type="application/json"
        data-chart-for={props.id}
        dangerouslySetInnerHTML={{ __html: scriptJson(chart) }}
      >
      </script>
      {data.regressions.length > 0
        ? (
          <ul class="markers" aria-label={`Regressions of ${label}`}>
            {data.regressions.map((r) => (
              <li class="regression" data-status={r.status} data-regression-id={r.id}>
                <span class={`status status-${r.status}`}>{r.status}</span>{" "}
                <a href={`${props.links.base}/runs/${encodeURIComponent(r.runId)}`}>
                  <time datetime={r.time}>{formatTime(r.time)}</time>
                </a>{" "}
                {formatValue(r.value, unit)}: {r.message}
              </li>
            ))}
          </ul>
        )
        : null}
    </figure>
  );
}

/** Props of {@linkcode ParetoChart}. */
export interface ParetoChartProps {
  /** The element id (unique in the page). */
  readonly id: string;
  /** The model's Pareto data. */
  readonly data: ParetoData;
  /** Links. */
  readonly links: Links;
}

/**
 * The size/accuracy scatter of a model's recipes with the Pareto front drawn as a line, and the
 * same points as a table (front rows marked). `data-points` and `data-front` count them.
 *
 * @param props The id, data and links.
 * @returns The figure.
 * @example
 * ```tsx ignore
 * <ParetoChart id="pareto" data={await source.pareto("mlp")} links={links} />
 * ```
 */
export function ParetoChart(props: ParetoChartProps): JSX.Element {
  const { all, front } = props.data;
  const onFront = new Set(front.map((p) => p.recipe));
  const chart: ParetoChartData = {
    kind: "pareto",
    points: all.map((p) => ({
      x: p.sizeBytes,
      y: p.accuracy,
      front: onFront.has(p.recipe),
      name: p.recipeName,
    })),
  };
  return (
    <figure class="chart-card pareto">
      <figcaption>
        <span class="metric">Size against accuracy, one point per recipe</span>
      </figcaption>
      <div
        id={props.id}
        class="chart"
        role="img"
        aria-label={`${plural(all.length, "recipe")}, ${front.length} on the Pareto front`}
        data-chart="pareto"
        data-points={String(all.length)}
        data-front={String(front.length)}
      >
      </div>
      <script
        type="application/json"
        data-chart-for={props.id}
        dangerouslySetInnerHTML={{ __html: scriptJson(chart) }}
      >
      </script>
      <table class="data">
        <caption>Recipes by size; the Pareto front is marked</caption>
        <thead>
          <tr>
            <th scope="col">Recipe</th>
            <th scope="col" class="num">Size</th>
            <th scope="col" class="num">Accuracy</th>
            <th scope="col">Front</th>
            <th scope="col">Run</th>
          </tr>
        </thead>
        <tbody>
          {all.map((p) => (
            <tr
              class={onFront.has(p.recipe) ? "front" : undefined}
              data-front={String(onFront.has(p.recipe))}
            >
              <th scope="row">{p.recipeName}</th>
              <td class="num">{formatBytes(p.sizeBytes)}</td>
              <td class="num">{formatValue(p.accuracy, "ratio")}</td>
              <td>{onFront.has(p.recipe) ? "on the front" : ""}</td>
              <td>
                <a href={`${props.links.base}/runs/${encodeURIComponent(p.runId)}`}>
                  {p.runId.length > 12 ? `${p.runId.slice(0, 8)}…` : p.runId}
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
