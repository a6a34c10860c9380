/**
 * Seeded sample data for the dashboard's own tests (routes, in-memory source): two models,
 * four recipes, a latency shift with its change point and an open regression, and what the
 * pages must therefore show.
 * @module
 */
import { mulberry32 } from "../../../test/support/prng.ts";
import type { MemoryData, MemoryRun } from "./memory_source.ts";

/** What the sample data holds, so that tests assert against numbers they did not count by hand. */
export interface SampleExpectations {
  /** The model with history. */
  readonly model: string;
  /** The recipe hash of the long series. */
  readonly recipe: string;
  /** The environment id. */
  readonly environment: string;
  /** Runs (points) of each metric's series of the long recipe. */
  readonly points: number;
  /** Runs of each other recipe of the model. */
  readonly shortPoints: number;
  /** How many series the model has (recipes x metrics; one environment). */
  readonly series: number;
  /** The open regression: its id, run, metric. */
  readonly regression: { readonly id: string; readonly runId: string; readonly metric: string };
  /** The acknowledged regression (not listed as open, still marked on its chart). */
  readonly acknowledged: { readonly id: string; readonly runId: string; readonly metric: string };
  /** Recipes on the size/accuracy plane, and on its front. */
  readonly pareto: { readonly all: number; readonly front: number; readonly dominated: string };
}

const RECIPES = [
  { hash: "a1f3c9d2e4b5", name: "int8 dynamic", size: 240_530, accuracy: 0.977 },
  { hash: "0b7e44aa1c9f", name: "fp32 (original)", size: 941_410, accuracy: 0.978 },
  { hash: "5c2d8e1f7a30", name: "int4 block 32", size: 150_112, accuracy: 0.972 },
  { hash: "9e8d7c6b5a41", name: "magnitude prune 50%", size: 480_220, accuracy: 0.9705 },
] as const;

/**
 * Makes the sample data: model "mnist_mlp" with recipe "int8 dynamic" run `points` times (one
 * run an hour from 2026-01-01) whose latency shifts up by 25% from run 20 on (a change point,
 * and an open regression on run 20), an acknowledged accuracy regression on run 10, three other
 * recipes run `shortPoints` times each (one of them dominated on size/accuracy), and a second
 * model "mnist_cnn" with a few runs.
 *
 * @param options How many runs the long series has (default 30, at least 21).
 * @returns The data and what it implies.
 * @example
 * ```ts
 * import { sampleDashboardData } from "./_testing.ts";
 * const { data, expected } = sampleDashboardData();
 * console.log(data.runs.length > expected.points); // true
 * ```
 */
export function sampleDashboardData(
  options: { readonly points?: number } = {},
): { data: MemoryData; expected: SampleExpectations } {
  const points = options.points ?? 30;
  if (points < 21) {
    throw new RangeError(`Cannot make sample data: points must be >= 21, got ${points}`);
  }
  const shortPoints = 5;
  const rand = mulberry32(7);
  const start = Date.parse("2026-01-01T00:00:00Z");
  const environment = "wasm-x86_64-2c";
  const runs: MemoryRun[] = [];
  let hour = 0;
  const run = (
    model: string,
    recipe: (typeof RECIPES)[number],
    index: number,
    latency: number,
  ): MemoryRun => {
    const id = `${model}-${recipe.hash.slice(0, 4)}-${String(index).padStart(3, "0")}`;
    const startedAt = new Date(start + hour++ * 3_600_000).toISOString();
    return {
      id,
      model,
      recipe: recipe.hash,
      recipeName: recipe.name,
      environment,
      environmentLabel: "onnxruntime-web wasm, 2 cores, x86_64",
      startedAt,
      finishedAt: new Date(Date.parse(startedAt) + 42_000).toISOString(),
      gitCommit: (0x1000000 + index * 7919).toString(16).padStart(40, "0"),
      branch: "main",
      params: { method: recipe.name.split(" ")[0] ?? recipe.name, bits: 8, per_channel: true },
      tags: { ci: "nightly" },
      metrics: [
        { name: "size_bytes", value: recipe.size },
        { name: "accuracy", value: recipe.accuracy + (rand() - 0.5) * 0.0008 },
        { name: "latency_ms", value: latency * (1 + (rand() - 0.5) * 0.04) },
      ],
      report: { schema: "modelpress.quantize/1", recipe: { method: recipe.name }, nodes: 3 },
    };
  };
  const main = RECIPES[0];
  for (let i = 0; i < points; i++) runs.push(run("mnist_mlp", main, i, i >= 20 ? 2.5 : 2.0));
  for (const recipe of RECIPES.slice(1)) {
    for (let i = 0; i < shortPoints; i++) runs.push(run("mnist_mlp", recipe, i, 3.1));
  }
  for (let i = 0; i < 3; i++) runs.push(run("mnist_cnn", RECIPES[1], i, 5.4));

  const regressionRun = runs[20]!.id;
  const acknowledgedRun = runs[10]!.id;
  const data: MemoryData = {
    runs,
    regressions: [
      {
        id: "reg-latency-20",
        runId: regressionRun,
        metric: "latency_ms",
        status: "open",
        message: "latency +25.0% against the last 20 runs (Mann-Whitney p=0.0001)",
        baseline: 2.0,
      },
      {
        id: "reg-accuracy-10",
        runId: acknowledgedRun,
        metric: "accuracy",
        status: "acknowledged",
        message: "accuracy -0.6 pp against the baseline",
        baseline: 0.977,
      },
    ],
    changePoints: [{ runId: regressionRun, metric: "latency_ms" }],
  };
  return {
    data,
    expected: {
      model: "mnist_mlp",
      recipe: main.hash,
      environment,
      points,
      shortPoints,
      series: RECIPES.length * 3,
      regression: { id: "reg-latency-20", runId: regressionRun, metric: "latency_ms" },
      acknowledged: { id: "reg-accuracy-10", runId: acknowledgedRun, metric: "accuracy" },
      pareto: { all: RECIPES.length, front: 3, dominated: RECIPES[3].name },
    },
  };
}
