/**
 * `deno task demo`: a real compression pipeline against the running stack (`deno task start`).
 * For each MNIST fixture it quantizes and prunes the model several ways through the quantize and
 * prune services, evaluates every result (and the original) through the evaluation service on
 * the MNIST test split, and has the evaluation service record each evaluation as a run in the
 * benchmark service (the `record` field; the evaluate service's BENCHMARK_URL, which
 * `deno task start` sets), so that the dashboard (http://127.0.0.1:8104/) shows real data:
 * sizes, accuracies, latency samples and the Pareto front of every model's recipes.
 * `--rounds N` repeats the evaluations N times (a short history per series).
 *
 * Usage: `deno task demo [--rounds N] [--samples N] [--host URL]`.
 * @module
 */
import { parseArgs, UsageError } from "@modelpress/cli";
import { SERVICES } from "../infra/services.ts";

const HELP = `Usage: deno task demo [--rounds N] [--samples N] [--host URL]

Runs a real pipeline against the services started by 'deno task start': quantizes and prunes
test/fixtures/mnist_{mlp,cnn}.onnx several ways, evaluates each result on MNIST, and records
every evaluation in the benchmark service (open its dashboard afterwards).

Options:
  --rounds N    Evaluate every model N times, one benchmark run each (default 3)
  --samples N   MNIST test samples per evaluation (default 2000, the whole test split)
  --host URL    Where the services listen (default http://127.0.0.1)
  -h, --help    Show this help
`;

/** One way of compressing a fixture: optional pruning, then optional quantization. */
interface Pipeline {
  readonly name: string;
  readonly prune?: Readonly<Record<string, unknown>>;
  readonly quantize?: Readonly<Record<string, unknown>>;
}

const FIXTURES: Readonly<Record<string, { file: string; pipelines: readonly Pipeline[] }>> = {
  mnist_mlp: {
    file: "test/fixtures/mnist_mlp.onnx",
    pipelines: [
      { name: "fp32" },
      { name: "int8-dynamic", quantize: { method: "dynamic" } },
      { name: "int8-channel", quantize: { method: "linear", bits: 8, granularity: "channel" } },
      {
        name: "int4-block32",
        quantize: { method: "linear", bits: 4, granularity: "block", blockSize: 32 },
      },
      { name: "magnitude-50", prune: { method: "magnitude", sparsity: 0.5, global: true } },
      { name: "magnitude-90", prune: { method: "magnitude", sparsity: 0.9, global: true } },
      { name: "wanda-90", prune: { method: "wanda", sparsity: 0.9 } },
      { name: "nm-2:4", prune: { method: "nm", pattern: "2:4" } },
      { name: "neuron-50", prune: { method: "neuron", sparsity: 0.5, importance: "l2" } },
      {
        name: "magnitude-50+int8",
        prune: { method: "magnitude", sparsity: 0.5, global: true },
        quantize: { method: "linear", bits: 8, granularity: "channel" },
      },
    ],
  },
  mnist_cnn: {
    file: "test/fixtures/mnist_cnn.onnx",
    pipelines: [
      { name: "fp32" },
      { name: "int8-dynamic", quantize: { method: "dynamic" } },
      {
        name: "int8-static",
        quantize: { method: "static", calibration: { method: "minmax", samples: 256 } },
      },
      { name: "magnitude-50", prune: { method: "magnitude", sparsity: 0.5, global: true } },
      { name: "channel-30", prune: { method: "channel", sparsity: 0.3, importance: "l2" } },
      {
        name: "channel-30-recovered",
        prune: {
          method: "channel",
          sparsity: 0.3,
          importance: "activation",
          recovery: { batchNorm: true, biasCorrection: true },
        },
      },
      {
        name: "channel-30+int8",
        prune: { method: "channel", sparsity: 0.3, importance: "l2" },
        quantize: { method: "linear", bits: 8, granularity: "channel" },
      },
    ],
  },
};

function serviceUrl(host: string, name: string): string {
  const spec = SERVICES.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`Cannot run the demo: no '${name}' service is listed`);
  return `${host}:${spec.port}`;
}

async function failure(response: Response, what: string): Promise<Error> {
  const text = await response.text();
  let message = text;
  try {
    message = JSON.parse(text)?.error?.message ?? text;
  } catch {
    // Not JSON: keep the text.
  }
  return new Error(`Cannot ${what}: HTTP ${response.status}: ${message}`);
}

/** Posts a multipart form and follows the job until it ends; returns the job's JSON. */
async function runJob(url: string, form: FormData, what: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", body: form });
  if (!response.ok) throw await failure(response, what);
  let job = await response.json() as Record<string, unknown>;
  const base = new URL(url);
  while (job.status === "queued" || job.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const poll = await fetch(new URL(`${base.pathname}/${job.id}`, base));
    if (!poll.ok) throw await failure(poll, what);
    job = await poll.json() as Record<string, unknown>;
  }
  if (job.status !== "succeeded") {
    throw new Error(`Cannot ${what}: the job ended ${job.status}: ${JSON.stringify(job.error)}`);
  }
  return job;
}

async function fetchModel(base: string, result: Record<string, unknown>): Promise<Uint8Array> {
  const link = (result.model as { url: string }).url;
  const response = await fetch(`${base}${link}`);
  if (!response.ok) throw await failure(response, `download ${link}`);
  return new Uint8Array(await response.arrayBuffer());
}

function modelForm(model: Uint8Array, fields: Record<string, string>): FormData {
  const form = new FormData();
  form.append("model", new Blob([model as Uint8Array<ArrayBuffer>]), "model.onnx");
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return form;
}

interface Compressed {
  readonly model: Uint8Array;
  readonly reports: Record<string, unknown>;
}

async function compress(
  host: string,
  original: Uint8Array,
  pipeline: Pipeline,
): Promise<Compressed> {
  let model = original;
  const reports: Record<string, unknown> = {};
  if (pipeline.prune !== undefined) {
    const base = serviceUrl(host, "prune");
    const fields: Record<string, string> = { recipe: JSON.stringify(pipeline.prune) };
    // Wanda, activation importance and recovery read activations of the training digits.
    const p = pipeline.prune;
    if (p.method === "wanda" || p.importance === "activation" || p.recovery !== undefined) {
      fields.calibration = "mnist";
    }
    const job = await runJob(`${base}/v1/prunings`, modelForm(model, fields), "prune");
    const result = job.result as Record<string, unknown>;
    model = await fetchModel(base, result);
    reports.prune = result.report;
  }
  if (pipeline.quantize !== undefined) {
    const base = serviceUrl(host, "quantize");
    const fields: Record<string, string> = { recipe: JSON.stringify(pipeline.quantize) };
    if (pipeline.quantize.method === "static") fields.calibration = "mnist";
    const job = await runJob(`${base}/v1/quantizations`, modelForm(model, fields), "quantize");
    const result = job.result as Record<string, unknown>;
    model = await fetchModel(base, result);
    reports.quantize = result.report;
  }
  return { model, reports };
}

/** How the evaluation service recorded an evaluation (its result's `recorded`). */
interface Recorded {
  readonly runId: string;
  readonly status?: "created" | "replayed";
  readonly error?: string;
}

/**
 * Evaluates a model through the evaluation service, which records the evaluation as a run in
 * the benchmark service as `record` asks; fails unless the run was recorded.
 */
async function evaluate(
  host: string,
  model: Uint8Array,
  reference: Uint8Array | null,
  samples: number,
  record: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const form = modelForm(model, {
    dataset: "mnist",
    options: JSON.stringify({ limit: samples, latency: { runs: 30, warmupRuns: 3, batchSize: 1 } }),
    record: JSON.stringify(record),
  });
  if (reference !== null) {
    form.append("reference", new Blob([reference as Uint8Array<ArrayBuffer>]), "reference.onnx");
  }
  const job = await runJob(`${serviceUrl(host, "evaluate")}/v1/evaluations`, form, "evaluate");
  const result = job.result as Record<string, unknown>;
  const recorded = result.recorded as Recorded | undefined;
  if (recorded === undefined || recorded.error !== undefined || recorded.status === undefined) {
    throw new Error(
      recorded?.error === undefined
        ? "Cannot record the run: the evaluation service's result has no 'recorded' " +
          `(${JSON.stringify(recorded)}); is it an older build?`
        : `The evaluation succeeded but was not recorded: ${recorded.error}`,
    );
  }
  return result;
}

async function gitInfo(): Promise<{ commit?: string; branch?: string }> {
  async function git(...args: string[]): Promise<string | undefined> {
    try {
      const out = await new Deno.Command("git", { args, stderr: "null" }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    } catch {
      return undefined;
    }
  }
  const commit = await git("rev-parse", "HEAD");
  const branch = await git("rev-parse", "--abbrev-ref", "HEAD");
  return { ...(commit ? { commit } : {}), ...(branch ? { branch } : {}) };
}

async function main(args: readonly string[]): Promise<number> {
  let rounds = 3;
  let samples = 2000;
  let host = "http://127.0.0.1";
  try {
    const parsed = parseArgs(args, {
      boolean: ["help"],
      string: ["rounds", "samples", "host"],
      alias: { h: "help" },
    });
    if (parsed.booleans.has("help")) {
      console.log(HELP.trimEnd());
      return 0;
    }
    if (parsed.positionals.length > 0) {
      throw new UsageError(`Unexpected argument '${parsed.positionals[0]}'`);
    }
    const count = (name: string, fallback: number): number => {
      const text = parsed.strings.get(name);
      if (text === undefined) return fallback;
      const value = Number(text);
      if (!Number.isInteger(value) || value < 1) {
        throw new UsageError(`--${name} must be a positive integer, got '${text}'`);
      }
      return value;
    };
    rounds = count("rounds", rounds);
    samples = count("samples", samples);
    host = parsed.strings.get("host") ?? host;
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    console.error("Run 'deno task demo --help' for usage.");
    return 2;
  }
  try {
    const git = await gitInfo();
    for (const [modelName, fixture] of Object.entries(FIXTURES)) {
      const original = await Deno.readFile(new URL(`../${fixture.file}`, import.meta.url));
      for (const pipeline of fixture.pipelines) {
        const started = performance.now();
        const { model, reports } = await compress(host, original, pipeline);
        let top1 = Number.NaN;
        for (let round = 0; round < rounds; round++) {
          const evaluation = await evaluate(
            host,
            model,
            pipeline.name === "fp32" ? null : original,
            samples,
            {
              id: crypto.randomUUID(),
              model: modelName,
              recipe: { name: pipeline.name, prune: pipeline.prune, quantize: pipeline.quantize },
              ...git,
              tags: { source: "demo", pipeline: pipeline.name, round: String(round + 1) },
              reports,
            },
          );
          top1 = (evaluation.accuracy as { top1?: number } | undefined)?.top1 ?? Number.NaN;
        }
        console.log(
          `${modelName.padEnd(10)} ${pipeline.name.padEnd(20)} ${
            String(model.length).padStart(8)
          } bytes  ${rounds} run(s) recorded in ${
            ((performance.now() - started) / 1000).toFixed(1)
          } s, accuracy ${(top1 * 100).toFixed(2)}%`,
        );
      }
    }
    console.log(`\nDashboard: ${serviceUrl(host, "benchmark")}/`);
    return 0;
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : "";
    console.error(`error: ${e instanceof Error ? e.message : String(e)}${cause}`);
    // fetch() rejects with a TypeError when nothing answers at the address.
    if (e instanceof TypeError) {
      console.error("Is the stack running? Start it with 'deno task start'.");
    }
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
