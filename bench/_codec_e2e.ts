/**
 * One end-to-end codec run in a fresh process, so that peak RSS (VmHWM) belongs to this run
 * alone: read the file, decode, encode (streamed to a file, or into one buffer), report JSON.
 *
 * Run: `deno run -A bench/_codec_e2e.ts MODEL ours-stream|ours-buffer|protobuf-es`
 * @module
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  decodeModel,
  encodeModel,
  encodeModelTo,
  ModelProtoSchema,
  readFileExact,
} from "@modelpress/onnx";

function peakRssBytes(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = status.match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : NaN;
}

const [path, mode] = Deno.args;
if (!path || !mode) throw new TypeError("usage: _codec_e2e.ts MODEL MODE");
const out = `${path}.roundtrip`;
const baseRss = peakRssBytes();
const t0 = performance.now();
const bytes = await readFileExact(path);
const t1 = performance.now();
let t2 = t1;
let written = 0;
if (mode === "protobuf-es") {
  const model = fromBinary(ModelProtoSchema, bytes);
  t2 = performance.now();
  const enc = toBinary(ModelProtoSchema, model);
  Deno.writeFileSync(out, enc);
  written = enc.length;
} else {
  const model = decodeModel(bytes);
  t2 = performance.now();
  if (mode === "ours-buffer") {
    const enc = encodeModel(model);
    Deno.writeFileSync(out, enc);
    written = enc.length;
  } else {
    using file = Deno.openSync(out, { write: true, create: true, truncate: true });
    written = encodeModelTo(model, (chunk) => {
      for (let n = 0; n < chunk.length;) n += file.writeSync(chunk.subarray(n));
    });
  }
}
const t3 = performance.now();
const peak = peakRssBytes();
const same = written === bytes.length &&
  Deno.readFileSync(out).every((b, i) => b === bytes[i]);
Deno.removeSync(out);
console.log(JSON.stringify({
  mode,
  fileBytes: bytes.length,
  readMs: t1 - t0,
  decodeMs: t2 - t1,
  encodeWriteMs: t3 - t2,
  totalMs: t3 - t0,
  peakRssBytes: peak,
  startRssBytes: baseRss,
  identical: same,
}));
