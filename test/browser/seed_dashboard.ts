/**
 * The data the browser test opens the dashboard on: a real benchmark service (`createApp` of
 * `services/benchmark/app.ts`, dashboard mounted) over an embedded in-memory PGlite store,
 * seeded through its own API (`POST /v1/runs/batch`, `POST /v1/runs`), so that the regressions
 * and change points the pages show are the ones the service's detection found.
 * @module
 */
import { createStore, type Store } from "@modelpress/store";
import { createApp } from "../../services/benchmark/app.ts";
import { mulberry32 } from "../support/prng.ts";

/** A regression as `GET /v1/regressions` answers it (the fields the test reads). */
export interface SeededRegression {
  /** The regression's id. */
  readonly id: string;
  /** The run it was found in. */
  readonly runId: string;
  /** The metric. */
  readonly metric: string;
  /** The recipe's hash (the series' recipe). */
  readonly recipe: string;
  /** open, acknowledged or fixed. */
  readonly status: string;
}

/** What the seeded data implies the pages show. */
export interface SeededExpectations {
  /** The model with history. */
  readonly model: string;
  /** The recipe hash of the long series. */
  readonly recipe: string;
  /** Runs (points) of each metric's series of the long recipe. */
  readonly points: number;
  /** Runs of each other recipe of the model. */
  readonly shortPoints: number;
  /** How many series the model has (recipes x metrics; one environment). */
  readonly series: number;
  /** The index (0-based, in time order) of the long series' first run after the latency shift. */
  readonly shiftIndex: number;
  /** The run ids of the long series, in time order. */
  readonly longRunIds: readonly string[];
  /** The open latency regression flagged on the first run after the shift. */
  readonly regression: SeededRegression;
  /** The accuracy regression on the run with an accuracy dip, acknowledged while seeding. */
  readonly acknowledged: SeededRegression;
  /** Every regression of the model, as `GET /v1/regressions?model=` answered after seeding. */
  readonly regressions: readonly SeededRegression[];
  /** Recipes on the size/accuracy plane (each recipe's latest run), and those on its front. */
  readonly pareto: {
    readonly all: number;
    readonly front: number;
    readonly frontNames: readonly string[];
    readonly dominated: readonly string[];
  };
}

/** What {@linkcode seedDashboard} gives the browser test. */
export interface SeededDashboard {
  /** The benchmark service's app: the API under `/v1` and the dashboard's pages. */
  readonly app: { fetch: (request: Request) => Response | Promise<Response> };
  /** The store behind it (for checks that read it directly). */
  readonly store: Store;
  /** What the seeded data implies the pages show. */
  readonly expected: SeededExpectations;
  /** `GET /v1/regressions` of the app, for checks after the page changed something. */
  regressions(): Promise<SeededRegression[]>;
  /** Closes the store (and its PGlite). */
  close(): Promise<void>;
}

/** Options of {@linkcode seedDashboard}. */
export interface SeedDashboardOptions {
  /** Runs of the long series (default 40, at least 30). */
  readonly points?: number;
  /** The PRNG seed (default 7). */
  readonly seed?: number;
}

interface Recipe {
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly size: number;
  readonly accuracy: number;
  readonly latency: number;
}

const RECIPES: readonly Recipe[] = [
  {
    name: "int8 dynamic",
    config: { method: "dynamic", bits: 8, perChannel: true },
    size: 240_530,
    accuracy: 0.977,
    latency: 2.0,
  },
  {
    name: "fp32 (original)",
    config: { method: "none" },
    size: 941_410,
    accuracy: 0.978,
    latency: 3.1,
  },
  {
    name: "int4 block 32",
    config: { method: "block", bits: 4, blockSize: 32 },
    size: 150_112,
    accuracy: 0.972,
    latency: 2.6,
  },
  {
    name: "magnitude prune 50%",
    config: { method: "magnitude", sparsity: 0.5 },
    size: 480_220,
    accuracy: 0.9705,
    latency: 2.9,
  },
];

const ENVIRONMENT = {
  cpuModel: "Test CPU x86_64",
  cores: 2,
  runtime: "deno 2.9.6; onnxruntime-web 1.30.0",
  backend: "wasm",
} as const;

/** Relative size of the latency shift of the long series (25% slower). */
const SHIFT = 0.25;
/** Raw latency samples per run. */
const SAMPLES = 30;

/** A version 4 UUID from the PRNG (deterministic). */
function seededUuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = "4";
  hex[16] = (8 + Math.floor(rand() * 4)).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** A standard normal variate (Box-Muller) from the PRNG. */
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The points no other point beats on both size (smaller) and accuracy (higher). */
function paretoFront<T extends { size: number; accuracy: number }>(points: readonly T[]): T[] {
  return points.filter((p) =>
    !points.some((q) =>
      q !== p && q.size <= p.size && q.accuracy >= p.accuracy &&
      (q.size < p.size || q.accuracy > p.accuracy)
    )
  );
}

async function api(
  app: ReturnType<typeof createApp>,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await app.request(path, {
    method,
    ...(body === undefined ? {} : {
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    }),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`Cannot seed the dashboard: ${method} ${path} -> ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

/**
 * Starts the benchmark service on a fresh in-memory PGlite and seeds it through its API:
 * model "mnist_mlp" with recipe "int8 dynamic" run `points` times (one run an hour from
 * 2026-01-01) whose latency samples shift up by 25% for the last 10 runs (the service flags a
 * latency regression on the first of them and finds a change point there), an accuracy dip of
 * 1 pp on run 10 (flagged, then acknowledged through the API), three other recipes run 5 times
 * each (one dominated on size/accuracy), and a second model "mnist_cnn" with 3 runs. Every run
 * has size, accuracy and latency (with raw samples) metrics.
 *
 * @param options The long series' length and the PRNG seed.
 * @returns The app, the store, the expectations and a close function.
 * @example
 * ```ts ignore
 * import { seedDashboard } from "./seed_dashboard.ts";
 * const seeded = await seedDashboard();
 * try {
 *   const res = await seeded.app.fetch(new Request("http://x/"));
 * } finally {
 *   await seeded.close();
 * }
 * ```
 */
export async function seedDashboard(options: SeedDashboardOptions = {}): Promise<SeededDashboard> {
  const points = options.points ?? 40;
  if (!Number.isInteger(points) || points < 30) {
    throw new RangeError(
      `Cannot seed the dashboard: points must be an integer >= 30, got ${points}`,
    );
  }
  const shortPoints = 5;
  const shiftIndex = points - 10;
  const dipIndex = 10;
  const rand = mulberry32(options.seed ?? 7);
  const start = Date.parse("2026-01-01T00:00:00Z");
  let hour = 0;

  const run = (
    model: string,
    recipe: Recipe,
    options: { latency: number; accuracy?: number },
  ): Record<string, unknown> => {
    const id = seededUuid(rand);
    const startedAt = new Date(start + hour++ * 3_600_000);
    // run-to-run drift of 0.5%, sample noise of 3%: far from the 5% a regression needs
    const center = options.latency * (1 + 0.005 * normal(rand));
    const samples = Array.from(
      { length: SAMPLES },
      () => Number((center * Math.exp(0.03 * normal(rand))).toFixed(4)),
    );
    return {
      model: {
        name: model,
        sha256: (model === "mnist_mlp" ? "ab" : "cd").repeat(32),
        sizeBytes: 941_410,
      },
      recipe: { config: recipe.config, name: recipe.name },
      environment: ENVIRONMENT,
      run: {
        id,
        startedAt: startedAt.toISOString(),
        endedAt: new Date(startedAt.getTime() + 42_000).toISOString(),
        gitCommit: Math.floor(rand() * 2 ** 48).toString(16).padStart(40, "0"),
        branch: "main",
        tags: { ci: "nightly" },
        report: { schema: "modelpress.quantize/1", recipe: recipe.config, nodes: 3 },
      },
      params: { ...recipe.config },
      metrics: [
        { name: "size_bytes", value: recipe.size, unit: "bytes" },
        {
          name: "accuracy",
          value: options.accuracy ?? recipe.accuracy + (rand() - 0.5) * 0.0008,
          unit: "ratio",
        },
        { name: "latency_ms", value: median(samples), unit: "ms", samples },
      ],
    };
  };

  const main = RECIPES[0]!;
  const history: Record<string, unknown>[] = [];
  for (let i = 0; i < points; i++) {
    history.push(run("mnist_mlp", main, {
      latency: main.latency * (i >= shiftIndex ? 1 + SHIFT : 1),
      ...(i === dipIndex ? { accuracy: main.accuracy - 0.01 } : {}),
    }));
  }
  const others: Record<string, unknown>[] = [];
  for (const recipe of RECIPES.slice(1)) {
    for (let i = 0; i < shortPoints; i++) {
      others.push(run("mnist_mlp", recipe, { latency: recipe.latency }));
    }
  }
  const cnn = Array.from({ length: 3 }, () => run("mnist_cnn", RECIPES[1]!, { latency: 5.4 }));

  const store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
  try {
    const app = createApp({ store });
    await api(app, "POST", "/v1/runs/batch", { runs: [...history, ...others] });
    for (const body of cnn) await api(app, "POST", "/v1/runs", body);

    const regressions = async (): Promise<SeededRegression[]> => {
      const answer = await api(app, "GET", "/v1/regressions?model=mnist_mlp&limit=1000") as {
        regressions: SeededRegression[];
      };
      return answer.regressions.map((r) => ({
        id: r.id,
        runId: r.runId,
        metric: r.metric,
        recipe: r.recipe,
        status: r.status,
      }));
    };
    const runId = (i: number): string => (history[i]!.run as { id: string }).id;
    const found = await regressions();
    const find = (metric: string, index: number): SeededRegression => {
      const hit = found.find((r) => r.metric === metric && r.runId === runId(index));
      if (!hit) {
        throw new Error(
          `Cannot seed the dashboard: no ${metric} regression on run ${index} of the long ` +
            `series; the service found ${JSON.stringify(found)}`,
        );
      }
      return hit;
    };
    const latency = find("latency_ms", shiftIndex);
    const dip = find("accuracy", dipIndex);
    await api(app, "POST", `/v1/regressions/${dip.id}/acknowledge`);
    const after = await regressions();

    const latest = RECIPES.map((recipe) => {
      const mine = [...history, ...others].filter((r) =>
        (r.recipe as { name: string }).name === recipe.name
      );
      const last = mine[mine.length - 1]!;
      const metric = (name: string): number =>
        (last.metrics as { name: string; value: number }[]).find((m) => m.name === name)!.value;
      return { name: recipe.name, size: metric("size_bytes"), accuracy: metric("accuracy") };
    });
    const front = paretoFront(latest);
    const recipeHash = latency.recipe;
    return {
      app,
      store,
      expected: {
        model: "mnist_mlp",
        recipe: recipeHash,
        points,
        shortPoints,
        series: RECIPES.length * 3,
        shiftIndex,
        longRunIds: history.map((_, i) => runId(i)),
        regression: latency,
        acknowledged: after.find((r) => r.id === dip.id)!,
        regressions: after,
        pareto: {
          all: latest.length,
          front: front.length,
          frontNames: front.map((p) => p.name),
          dominated: latest.filter((p) => !front.includes(p)).map((p) => p.name),
        },
      },
      regressions,
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
