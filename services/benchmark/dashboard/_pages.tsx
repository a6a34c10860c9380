/** @jsxImportSource hono/jsx */
/**
 * The dashboard's pages: models overview, model (series charts and Pareto scatter), open
 * regressions, run detail, not found.
 * @module
 */
import type { JSX } from "hono/jsx/jsx-runtime";
import { ParetoChart, SeriesChart } from "./_chart.tsx";
import { formatTime, formatValue, metricLabel, plural, unitOf } from "./_format.ts";
import { Layout, type Links } from "./_layout.tsx";
import type {
  ModelOverview,
  ParetoData,
  RegressionRow,
  RunDetail,
  SeriesData,
  SeriesKey,
} from "./source.ts";

function modelHref(links: Links, name: string): string {
  return `${links.base}/models/${encodeURIComponent(name)}`;
}

function runHref(links: Links, id: string): string {
  return `${links.base}/runs/${encodeURIComponent(id)}`;
}

/**
 * The models overview: one row per model with its latest numbers.
 *
 * @param props The models and links.
 * @returns The page.
 * @example
 * ```tsx ignore
 * c.html(<ModelsPage models={await source.listModels()} links={links} />)
 * ```
 */
export function ModelsPage(
  props: { readonly models: readonly ModelOverview[]; readonly links: Links },
): JSX.Element {
  const { models, links } = props;
  const open = models.reduce((n, m) => n + m.openRegressions, 0);
  return (
    <Layout title="Models" links={links} current="models">
      <h1>Models</h1>
      <p class="lead">
        {plural(models.length, "model")}, {open === 0
          ? "no open regressions"
          : <a href={`${links.base}/regressions`}>{plural(open, "open regression")}</a>}.
      </p>
      {models.length === 0
        ? <p class="empty">No runs recorded yet.</p>
        : (
          <table class="data" id="models">
            <caption>Latest numbers per model</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" class="num">Size</th>
                <th scope="col" class="num">Accuracy</th>
                <th scope="col" class="num">Latency</th>
                <th scope="col" class="num">Runs</th>
                <th scope="col" class="num">Open regressions</th>
                <th scope="col">Last run</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr data-model={m.name}>
                  <th scope="row">
                    <a href={modelHref(links, m.name)}>{m.name}</a>
                  </th>
                  <td class="num">{formatValue(m.sizeBytes, "bytes")}</td>
                  <td class="num">{formatValue(m.accuracy, "ratio")}</td>
                  <td class="num">{formatValue(m.latencyMs, "ms")}</td>
                  <td class="num">{m.runs}</td>
                  <td class="num">
                    {m.openRegressions > 0
                      ? <span class="badge bad">{m.openRegressions}</span>
                      : <span class="badge ok">0</span>}
                  </td>
                  <td>
                    {m.lastRunAt === null
                      ? "–"
                      : <time datetime={m.lastRunAt}>{formatTime(m.lastRunAt)}</time>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </Layout>
  );
}

/** One series with its data, as the model page shows it. */
export interface ModelSeries {
  /** The series. */
  readonly key: SeriesKey;
  /** Its data. */
  readonly data: SeriesData;
}

const METRIC_ORDER = ["bytes", "ratio", "ms"];

function metricRank(key: SeriesKey): number {
  const rank = METRIC_ORDER.indexOf(unitOf(key));
  return rank === -1 ? METRIC_ORDER.length : rank;
}

/**
 * A model's page: the Pareto scatter, then per recipe x environment one chart per metric
 * (size, accuracy, latency first).
 *
 * @param props The model's name, its series with data, its Pareto data, links.
 * @returns The page.
 * @example
 * ```tsx ignore
 * c.html(<ModelPage name="mlp" series={series} pareto={pareto} links={links} />)
 * ```
 */
export function ModelPage(props: {
  readonly name: string;
  readonly series: readonly ModelSeries[];
  readonly pareto: ParetoData;
  readonly links: Links;
}): JSX.Element {
  const { name, links } = props;
  const groups = new Map<string, ModelSeries[]>();
  for (const s of props.series) {
    const group = JSON.stringify([s.key.recipe, s.key.environment]);
    groups.set(group, [...(groups.get(group) ?? []), s]);
  }
  let chart = 0;
  return (
    <Layout title={name} links={links} current="models" charts>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${links.base}/`}>Models</a> / <span aria-current="page">{name}</span>
      </nav>
      <h1>{name}</h1>
      <section aria-labelledby="pareto-heading">
        <h2 id="pareto-heading">Size and accuracy</h2>
        {props.pareto.all.length === 0
          ? <p class="empty">No run measured both size and accuracy.</p>
          : <ParetoChart id="pareto" data={props.pareto} links={links} />}
      </section>
      <section aria-labelledby="series-heading">
        <h2 id="series-heading">History</h2>
        {groups.size === 0 ? <p class="empty">No series.</p> : (
          <p class="key">
            <span class="ring open" aria-hidden="true"></span> open regression{" "}
            <span class="ring acknowledged" aria-hidden="true"></span> acknowledged{" "}
            <span class="ring fixed" aria-hidden="true"></span> fixed{" "}
            <span class="dash" aria-hidden="true"></span>{" "}
            change point; dashed grey lines are the minimum and maximum of runs merged into one
            point.
          </p>
        )}
        {[...groups.values()].map((members) => {
          const first = members[0]!.key;
          const sorted = [...members].sort((a, b) =>
            metricRank(a.key) - metricRank(b.key) || a.key.metric.localeCompare(b.key.metric)
          );
          return (
            <section
              class="series-group"
              data-recipe={first.recipe}
              data-environment={first.environment}
            >
              <h3>
                {first.recipeName} <span class="on">on</span> {first.environmentLabel}
              </h3>
              <div class="charts">
                {sorted.map((s) => (
                  <SeriesChart
                    id={`chart-${++chart}`}
                    seriesKey={s.key}
                    data={s.data}
                    links={links}
                  />
                ))}
              </div>
            </section>
          );
        })}
      </section>
    </Layout>
  );
}

/**
 * Open regressions, newest first, each with an acknowledge button (a form that POSTs to
 * `{api}/v1/regressions/:id/acknowledge`; the chart script sends it with fetch and marks the row).
 *
 * @param props The regressions and links.
 * @returns The page.
 * @example
 * ```tsx ignore
 * c.html(<RegressionsPage regressions={await source.openRegressions()} links={links} />)
 * ```
 */
export function RegressionsPage(
  props: { readonly regressions: readonly RegressionRow[]; readonly links: Links },
): JSX.Element {
  const { regressions, links } = props;
  return (
    <Layout title="Open regressions" links={links} current="regressions">
      <h1>Open regressions</h1>
      <p role="status" id="ack-status" class="lead">
        {regressions.length === 0
          ? "No open regressions."
          : `${plural(regressions.length, "regression")} open.`}
      </p>
      {regressions.length === 0 ? null : (
        <table class="data" id="regressions">
          <caption>Regressions waiting for someone to look at them</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Series</th>
              <th scope="col">Run</th>
              <th scope="col" class="num">Value</th>
              <th scope="col" class="num">Baseline</th>
              <th scope="col">Why</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {regressions.map((r) => {
              const unit = unitOf(r.series);
              return (
                <tr data-regression-id={r.id} data-status={r.status}>
                  <th scope="row">
                    <a href={modelHref(links, r.series.model)}>{r.series.model}</a>
                  </th>
                  <td>
                    {metricLabel(r.series.metric)}, {r.series.recipeName},{" "}
                    {r.series.environmentLabel}
                  </td>
                  <td>
                    <a href={runHref(links, r.runId)}>
                      <time datetime={r.time}>{formatTime(r.time)}</time>
                    </a>
                  </td>
                  <td class="num">{formatValue(r.value, unit)}</td>
                  <td class="num">{formatValue(r.baseline, unit)}</td>
                  <td>{r.message}</td>
                  <td>
                    <form
                      method="post"
                      class="ack"
                      action={`${links.api}/v1/regressions/${encodeURIComponent(r.id)}/acknowledge`}
                    >
                      <button type="submit">Acknowledge</button>
                    </form>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

function KeyValues(
  props: { readonly caption: string; readonly entries: readonly [string, unknown][] },
): JSX.Element {
  if (props.entries.length === 0) return <p class="empty">No {props.caption.toLowerCase()}.</p>;
  return (
    <table class="data kv">
      <caption>{props.caption}</caption>
      <tbody>
        {props.entries.map(([k, v]) => (
          <tr>
            <th scope="row">{k}</th>
            <td>
              <code>{typeof v === "string" ? v : JSON.stringify(v)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * One run: what ran where, its metrics, parameters, tags and compression report.
 *
 * @param props The run and links.
 * @returns The page.
 * @example
 * ```tsx ignore
 * c.html(<RunPage run={run} links={links} />)
 * ```
 */
export function RunPage(props: { readonly run: RunDetail; readonly links: Links }): JSX.Element {
  const { run, links } = props;
  return (
    <Layout title={`Run ${run.id}`} links={links}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${links.base}/`}>Models</a> /{" "}
        <a href={modelHref(links, run.model)}>{run.model}</a> /{" "}
        <span aria-current="page">run {run.id}</span>
      </nav>
      <h1>
        Run <code>{run.id}</code>
      </h1>
      <dl class="facts" id="run">
        <dt>Model</dt>
        <dd>
          <a href={modelHref(links, run.model)}>{run.model}</a>
        </dd>
        <dt>Recipe</dt>
        <dd>
          {run.recipeName} <code class="hash">{run.recipe}</code>
        </dd>
        <dt>Environment</dt>
        <dd>{run.environmentLabel}</dd>
        <dt>Started</dt>
        <dd>
          <time datetime={run.startedAt}>{formatTime(run.startedAt)}</time>
        </dd>
        <dt>Finished</dt>
        <dd>
          {run.finishedAt === null
            ? "–"
            : <time datetime={run.finishedAt}>{formatTime(run.finishedAt)}</time>}
        </dd>
        <dt>Commit</dt>
        <dd>
          {run.gitCommit === null ? "–" : <code>{run.gitCommit}</code>}
          {run.branch === null ? null : <span>on {run.branch}</span>}
        </dd>
      </dl>
      <h2>Metrics</h2>
      {run.metrics.length === 0
        ? <p class="empty">No metrics.</p>
        : (
          <table class="data" id="metrics">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" class="num">Value</th>
              </tr>
            </thead>
            <tbody>
              {run.metrics.map((m) => (
                <tr data-metric={m.name}>
                  <th scope="row">{m.name}</th>
                  <td class="num">
                    {formatValue(
                      m.value,
                      unitOf({ metric: m.name, ...(m.unit === undefined ? {} : { unit: m.unit }) }),
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <h2>Parameters and tags</h2>
      <div class="two">
        <KeyValues caption="Parameters" entries={Object.entries(run.params)} />
        <KeyValues caption="Tags" entries={Object.entries(run.tags)} />
      </div>
      <h2>Compression report</h2>
      {run.report === null
        ? <p class="empty">This run has no compression report.</p>
        : <pre class="report" id="report" tabindex={0}>{JSON.stringify(run.report, null, 2)}</pre>}
    </Layout>
  );
}

/**
 * The 404 page.
 *
 * @param props What was not found, and links.
 * @returns The page.
 * @example
 * ```tsx ignore
 * c.html(<NotFoundPage what="model 'x'" links={links} />, 404)
 * ```
 */
export function NotFoundPage(props: { readonly what: string; readonly links: Links }): JSX.Element {
  return (
    <Layout title="Not found" links={props.links}>
      <h1>Not found</h1>
      <p>
        There is no {props.what}. <a href={`${props.links.base}/`}>Back to the models</a>.
      </p>
    </Layout>
  );
}
