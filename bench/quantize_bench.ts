/**
 * Quantization end to end on a >= 150 MB fp32 conv model (made by scripts/make_big_model.ts when
 * missing): read + decode, `quantizeModel`, streamed encode + write, each recipe in a fresh
 * process (`bench/_quantize_e2e.ts`) for a clean peak RSS, median of 3 by total time. Then, outside
 * the timed part, the quantized models are loaded in onnxruntime-web and run once on a small
 * input against the fp32 model.
 *
 * The reference is issue 5's number: ONNX Runtime's Python `quantize_dynamic` needs about 2.8 s
 * for a 176 MB conv model on this machine class (it cannot run here; no Python ONNX Runtime).
 *
 * Run: `deno run -A bench/quantize_bench.ts`
 * @module
 */
import { createSession, runSession, Tensor } from "@modelpress/evaluate";
import { MODES } from "./_quantize_e2e.ts";

const root = new URL("../", import.meta.url);
const BIG = new URL("bench/_out/big_conv.onnx", root).pathname;
const RUNS = 3;
const ORT_PYTHON_MS = 2800;
const ORT_PYTHON_BYTES = 176e6;

function machine(): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "?";
  return `${cpu}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`;
}

interface Run {
  readonly mode: string;
  readonly fileBytes: number;
  readonly outBytes: number;
  readonly readMs: number;
  readonly quantizeMs: number;
  readonly numericMs: number;
  readonly writeMs: number;
  readonly totalMs: number;
  readonly backend: string;
  readonly quantized: number;
  readonly skipped: number;
  readonly readRssBytes: number;
  readonly quantizeRssBytes: number;
  readonly peakRssBytes: number;
}

function ensureModel(): void {
  try {
    Deno.statSync(BIG);
  } catch {
    const p = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("scripts/make_big_model.ts", root).pathname, BIG],
    }).outputSync();
    if (!p.success) throw new Error(new TextDecoder().decode(p.stderr));
  }
}

function once(mode: string, out: string): Run {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("bench/_quantize_e2e.ts", root).pathname, BIG, out, mode],
  }).outputSync();
  if (!p.success) throw new Error(new TextDecoder().decode(p.stderr));
  return JSON.parse(new TextDecoder().decode(p.stdout));
}

/** Runs the fp32 and a quantized model once on [1, 3, 32, 32]; returns output cosine. */
async function check(out: string, input: Tensor, reference: Float32Array): Promise<string> {
  const session = await createSession(await Deno.readFile(out));
  try {
    const outputs = await runSession(session, { input });
    const y = Object.values(outputs)[0]!.data as Float32Array;
    let dot = 0, a = 0, b = 0;
    for (let i = 0; i < y.length; i++) {
      dot += y[i]! * reference[i]!;
      a += y[i]! * y[i]!;
      b += reference[i]! * reference[i]!;
    }
    return `runs, output [${y.length}], cosine to fp32 ${(dot / Math.sqrt(a * b)).toFixed(4)}`;
  } finally {
    await session.release();
  }
}

if (import.meta.main) {
  console.log(`machine: ${machine()}`);
  ensureModel();
  const mb = (n: number): string => (n / 1e6).toFixed(0);
  console.log(`\nend to end on ${BIG} (median of ${RUNS} fresh processes by total time)`);
  console.log(
    "mode            backend  nodes q/s  read ms  quantize ms (numeric)  write ms  total ms  out MB  ratio  RSS after read/quantize MB  peak RSS MB  RSS/file",
  );
  const outs: [string, string][] = [];
  for (const mode of Object.keys(MODES)) {
    const out = `${BIG}.${mode}.onnx`;
    const runs = Array.from({ length: RUNS }, () => once(mode, out)).sort((a, b) =>
      a.totalMs - b.totalMs
    );
    const r = runs[Math.floor(RUNS / 2)]!;
    outs.push([mode, out]);
    console.log(
      [
        mode.padEnd(15),
        r.backend.padEnd(7),
        `${r.quantized}/${r.skipped}`.padStart(10),
        r.readMs.toFixed(0).padStart(8),
        `${r.quantizeMs.toFixed(0)} (${r.numericMs.toFixed(0)})`.padStart(22),
        r.writeMs.toFixed(0).padStart(9),
        r.totalMs.toFixed(0).padStart(9),
        mb(r.outBytes).padStart(7),
        (r.outBytes / r.fileBytes).toFixed(3).padStart(6),
        `${mb(r.readRssBytes)} / ${mb(r.quantizeRssBytes)}`.padStart(27),
        mb(r.peakRssBytes).padStart(12),
        (r.peakRssBytes / r.fileBytes).toFixed(2).padStart(9),
      ].join(" "),
    );
    if (mode === "dynamic") {
      const scaled = ORT_PYTHON_MS * (r.fileBytes / ORT_PYTHON_BYTES);
      console.log(
        `  issue 5 reference: ORT Python quantize_dynamic ~${ORT_PYTHON_MS} ms for 176 MB ` +
          `(~${scaled.toFixed(0)} ms scaled to this file): ${
            (scaled / r.totalMs).toFixed(1)
          }x faster`,
      );
    }
  }

  // Outside the timed part: every quantized model loads and runs in onnxruntime-web.
  const data = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));
  const input = new Tensor("float32", data, [1, 3, 32, 32]);
  const fp32 = await createSession(await Deno.readFile(BIG));
  const reference = Object.values(await runSession(fp32, { input }))[0]!.data as Float32Array;
  await fp32.release();
  console.log("\nonnxruntime-web, one run on [1, 3, 32, 32]:");
  for (const [mode, out] of outs) {
    console.log(`  ${mode}: ${await check(out, input, reference)}`);
    await Deno.remove(out);
  }
}
