/**
 * One end-to-end quantization in a fresh process, so that peak RSS (VmHWM) belongs to this run
 * alone: read + decode the file, `quantizeModel`, streamed encode + write (`writeModel`), report
 * JSON on stdout. The quantized model is left at OUT for the caller to check and remove.
 *
 * Run: `deno run -A bench/_quantize_e2e.ts MODEL OUT dynamic|linear-channel`
 * @module
 */
import { decodeModel, readFileExact, writeModel } from "@modelpress/onnx";
import { quantizeModel, type QuantizeRecipe } from "@modelpress/quantize";

/** The recipes the bench compares, by mode name. */
export const MODES: Readonly<Record<string, QuantizeRecipe>> = Object.freeze({
  // quantize_dynamic's equivalent: int8 weights, integer kernels, one range per tensor.
  "dynamic": { method: "dynamic", granularity: "tensor" },
  "linear-channel": { method: "linear", bits: 8, granularity: "channel" },
});

function peakRssBytes(): number {
  const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : NaN;
}

if (import.meta.main) {
  const [path, out, mode] = Deno.args;
  const recipe = MODES[mode ?? ""];
  if (!path || !out || !recipe) throw new TypeError("usage: _quantize_e2e.ts MODEL OUT MODE");
  const startRss = peakRssBytes();
  const t0 = performance.now();
  const model = decodeModel(await readFileExact(path));
  const t1 = performance.now();
  const readRss = peakRssBytes();
  const { report } = await quantizeModel(model, recipe);
  const t2 = performance.now();
  const quantizeRss = peakRssBytes();
  const written = await writeModel(out, model);
  const t3 = performance.now();
  console.log(JSON.stringify({
    mode,
    fileBytes: (await Deno.stat(path)).size,
    outBytes: written.modelBytes,
    readMs: t1 - t0,
    quantizeMs: t2 - t1,
    numericMs: report.timeMs.numeric,
    writeMs: t3 - t2,
    totalMs: t3 - t0,
    backend: report.backend,
    quantized: report.nodes.filter((n) => n.status === "quantized").length,
    skipped: report.nodes.filter((n) => n.status === "skipped").length,
    startRssBytes: startRss,
    readRssBytes: readRss,
    quantizeRssBytes: quantizeRss,
    peakRssBytes: peakRssBytes(),
  }));
}
