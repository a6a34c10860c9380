/**
 * ONNX codec benchmarks.
 * 1. mitata micro-benchmarks: decode and encode of the silero VAD models and of a rich model,
 *    ours against protobuf-es's reflective codec.
 * 2. End to end on a >= 150 MB fp32 conv model (made by scripts/make_big_model.ts when missing):
 *    read + decode + encode + write, each mode in a fresh process for a clean peak RSS.
 *
 * Run: `deno task bench` (or `deno run -A bench/onnx_codec_bench.ts [--e2e-only]`)
 * @module
 */
import { bench, group, run, summary } from "mitata";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { decodeModel, encodeModel, ModelProtoSchema } from "@modelpress/onnx";

const root = new URL("../", import.meta.url);
const BIG = new URL("bench/_out/big_conv.onnx", root).pathname;

function machine(): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "?";
  return `${cpu}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`;
}

async function micro(): Promise<void> {
  for (const name of ["silero_vad_legacy", "silero_vad_v5"]) {
    const bytes = await Deno.readFile(
      new URL(`node_modules/@ricky0123/vad-web/dist/${name}.onnx`, root),
    );
    const ours = decodeModel(bytes);
    const theirs = fromBinary(ModelProtoSchema, bytes);
    group(`${name} (${(bytes.length / 1e6).toFixed(1)} MB)`, () => {
      summary(() => {
        bench("decode: modelpress", () => decodeModel(bytes));
        bench("decode: protobuf-es", () => fromBinary(ModelProtoSchema, bytes));
      });
      summary(() => {
        bench("encode: modelpress", () => encodeModel(ours));
        bench("encode: protobuf-es", () => toBinary(ModelProtoSchema, theirs));
      });
    });
  }
  await run();
}

async function e2e(): Promise<void> {
  try {
    await Deno.stat(BIG);
  } catch {
    const p = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("scripts/make_big_model.ts", root).pathname, BIG],
    }).outputSync();
    if (!p.success) throw new Error(new TextDecoder().decode(p.stderr));
  }
  console.log(`\nend to end on ${BIG} (median of 3 fresh processes per mode)`);
  console.log(
    "mode          MB      read ms  decode ms  encode+write ms  total ms  MB/s  peak RSS MB  RSS/file  identical",
  );
  for (const mode of ["ours-stream", "ours-buffer", "protobuf-es"]) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const p = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("bench/_codec_e2e.ts", root).pathname, BIG, mode],
      }).outputSync();
      if (!p.success) throw new Error(new TextDecoder().decode(p.stderr));
      runs.push(JSON.parse(new TextDecoder().decode(p.stdout)));
    }
    runs.sort((a, b) => a.totalMs - b.totalMs);
    const r = runs[1];
    const mb = r.fileBytes / 1e6;
    console.log(
      [
        mode.padEnd(12),
        mb.toFixed(1).padStart(6),
        r.readMs.toFixed(0).padStart(9),
        r.decodeMs.toFixed(0).padStart(10),
        r.encodeWriteMs.toFixed(0).padStart(16),
        r.totalMs.toFixed(0).padStart(9),
        ((2 * mb) / (r.totalMs / 1000)).toFixed(0).padStart(5),
        (r.peakRssBytes / 1e6).toFixed(0).padStart(12),
        (r.peakRssBytes / r.fileBytes).toFixed(2).padStart(9),
        String(r.identical).padStart(10),
      ].join(" "),
    );
  }
}

if (import.meta.main) {
  console.log(`machine: ${machine()}`);
  if (!Deno.args.includes("--e2e-only")) await micro();
  await e2e();
}
