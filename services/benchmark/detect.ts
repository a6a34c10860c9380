/**
 * Regression detection at ingest: each new metric is compared with its series' baseline (a
 * pinned run, or the history since the last change point) by the rules of `regression/`, and
 * the series' change points are brought up to date.
 * @module
 */
import type { Kysely } from "kysely";
import {
  type Database,
  type HistoryPoint,
  type IngestedRun,
  listRegressions,
  recordChangePoints,
  recordRegressions,
  type RegressionInput,
  type RegressionRecord,
  seriesBaseline,
  seriesHistory,
} from "@modelpress/store";
import { baselineSince, changePoints, checkRegression, ruleFor } from "./regression/mod.ts";

/** Options of {@linkcode detectRegressions}. */
export interface DetectOptions {
  /** How many of a series' latest points to read (default 500). */
  readonly historyLimit?: number;
  /** Change-point window (default 50, as Hunter / Otava). */
  readonly window?: number;
  /** Change-point significance (default 0.001). */
  readonly alpha?: number;
}

interface Candidate extends HistoryPoint {
  readonly metric: string;
}

/**
 * Checks the metrics of newly stored runs for regressions and records them, with the change
 * points of every series touched. Runs not created now (idempotent replays) are skipped.
 *
 * @param db The store's database.
 * @param runs What `ingestRuns` answered.
 * @param options History length and change-point settings.
 * @returns The regressions recorded now.
 * @example
 * ```ts ignore
 * import { ingestRuns } from "@modelpress/store";
 * import { detectRegressions } from "./detect.ts";
 * const found = await detectRegressions(store.db, await ingestRuns(store.db, runs));
 * ```
 */
export async function detectRegressions(
  db: Kysely<Database>,
  runs: readonly IngestedRun[],
  options: DetectOptions = {},
): Promise<RegressionRecord[]> {
  const bySeries = new Map<number, Candidate[]>();
  for (const run of runs) {
    if (!run.created) continue;
    for (const m of run.metrics) {
      const list = bySeries.get(m.seriesId) ?? [];
      list.push({
        metric: m.name,
        runId: run.id,
        time: run.startedAt,
        value: m.value,
        ...(m.samples ? { samples: m.samples } : {}),
      });
      bySeries.set(m.seriesId, list);
    }
  }
  const findings: RegressionInput[] = [];
  for (const [seriesId, candidates] of bySeries) {
    candidates.sort((a, b) => a.time.getTime() - b.time.getTime() || (a.runId < b.runId ? -1 : 1));
    const history: HistoryPoint[] = await seriesHistory(db, seriesId, {
      before: candidates[0]!.time,
      limit: options.historyLimit ?? 500,
    });
    const pinned = await seriesBaseline(db, seriesId);
    const cpOptions = { window: options.window ?? 50, alpha: options.alpha ?? 0.001 };
    for (const candidate of candidates) {
      const baseline = pinned && pinned.runId !== candidate.runId
        ? [pinned]
        : baselineSince(history, changePoints(history.map((h) => h.value), cpOptions));
      if (baseline.length > 0) {
        const finding = checkRegression(
          candidate,
          baseline,
          ruleFor(candidate.metric),
          candidate.metric,
        );
        if (finding) {
          findings.push({
            seriesId,
            runId: finding.runId,
            metric: finding.metric,
            baselineValue: finding.baselineValue,
            baselineRunIds: finding.baselineRunIds,
            value: finding.value,
            change: finding.change,
            relativeChange: finding.relativeChange,
            pValue: finding.pValue,
            test: finding.test,
            message: finding.message,
          });
        }
      }
      history.push(candidate);
    }
    const points = changePoints(history.map((h) => h.value), cpOptions);
    await recordChangePoints(
      db,
      seriesId,
      points.map((p) => ({
        runId: history[p.index]!.runId,
        time: history[p.index]!.time,
        pValue: p.pValue,
        meanBefore: p.meanBefore,
        meanAfter: p.meanAfter,
      })),
    );
  }
  const ids = (await recordRegressions(db, findings)).filter((id) => id !== undefined);
  return await listRegressions(db, { ids, limit: 1000 });
}

/** Options of {@linkcode notifyWebhook}. */
export interface WebhookOptions {
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof fetch;
  /** Give up after this many milliseconds (default 5000). */
  readonly timeoutMs?: number;
}

/**
 * POSTs one JSON body per regression (`{ "type": "regression", "regression": {...} }`) to a
 * webhook. Failures (network, non-2xx, timeout) are logged and never thrown: a webhook that is
 * down must not fail an ingest.
 *
 * @param url The webhook's URL.
 * @param regressions The new regressions.
 * @param options fetch and timeout.
 * @returns How many were delivered with a 2xx answer.
 * @example
 * ```ts ignore
 * import { notifyWebhook } from "./detect.ts";
 * await notifyWebhook("http://127.0.0.1:9000/hook", regressions);
 * ```
 */
export async function notifyWebhook(
  url: string,
  regressions: readonly RegressionRecord[],
  options: WebhookOptions = {},
): Promise<number> {
  const send = options.fetch ?? fetch;
  const results = await Promise.all(regressions.map(async (regression) => {
    try {
      const response = await send(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "regression", regression }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await response.body?.cancel();
      if (!response.ok) {
        console.warn(`Cannot notify webhook ${url}: it answered ${response.status}`);
        return false;
      }
      return true;
    } catch (error) {
      console.warn(
        `Cannot notify webhook ${url}: ${error instanceof Error ? error.message : error}`,
      );
      return false;
    }
  }));
  return results.filter(Boolean).length;
}
