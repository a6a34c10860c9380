/**
 * 4-bit blocked weight-only quantization, the two forms `quantizeModel` can write, timed in
 * onnxruntime-web (wasm EP, 1 thread) through `@modelpress/evaluate`: `format: "matmulnbits"`
 * (com.microsoft MatMulNBits) against `format: "dequantizelinear"` (INT4 codes, opset-21 blocked
 * DequantizeLinear, float MatMul), with the fp32 model for reference. Models: the MNIST MLP
 * (test/fixtures/mnist_mlp.onnx) and one MatMul [B, 4096] x [4096, 4096] built here; batches 1
 * and 32; 4-bit signed symmetric, block 32. Each cell is the median over ROUNDS rounds of
 * `measureLatency`'s p50 (rounds interleave the forms, so drift hits all alike). Also prints the
 * MNIST accuracy of both forms on the fixed 2,000-sample split.
 *
 * Run: `deno run -A bench/int4_format_bench.ts` (`--quick`: fewer runs)
 * @module
 */
import {
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import {
  createSession,
  evaluateModel,
  loadDataset,
  measureLatency,
  type Session,
  Tensor,
} from "@modelpress/evaluate";
import { createKernels } from "@modelpress/kernels";
import { quantizeModel, type WeightFormat } from "@modelpress/quantize";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 3 : 7;
const FORMATS: readonly WeightFormat[] = ["matmulnbits", "dequantizelinear"];

function machine(): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "?";
  return `${cpu}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
}

/** A fixed pseudo-random sequence in [-1, 1). */
function floats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function bigMatMul(k: number, n: number): Uint8Array {
  const w = makeTensor("w", floats(k * n, 7).map((v) => v / Math.sqrt(k)), { dims: [k, n] });
  const graph = makeGraph("matmul", {
    nodes: [makeNode("MatMul", { inputs: ["input", "w"], outputs: ["y"], name: "mm" })],
    inputs: [makeValueInfo("input", T.FLOAT, { shape: ["batch", k] })],
    outputs: [makeValueInfo("y", T.FLOAT, { shape: ["batch", n] })],
    initializers: [w],
  });
  return encodeModel(
    makeModel(graph, { opsetImports: [{ domain: "", version: 17 }], irVersion: 8 }),
  );
}

const kernels = await createKernels({ backend: "auto" });
async function variants(fp32: Uint8Array): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = { fp32 };
  for (const format of FORMATS) {
    const { model } = await quantizeModel(decodeModel(fp32), {
      method: "linear",
      bits: 4,
      granularity: "block",
      blockSize: 32,
      format,
    }, { kernels });
    out[format] = encodeModel(model);
  }
  return out;
}

const mlp = await Deno.readFile(new URL("../test/fixtures/mnist_mlp.onnx", import.meta.url));
const models: { name: string; k: number; bytes: Record<string, Uint8Array> }[] = [
  { name: "MNIST MLP (784-512-256-10)", k: 784, bytes: await variants(mlp) },
  { name: "MatMul 4096x4096", k: 4096, bytes: await variants(bigMatMul(4096, 4096)) },
];
kernels.dispose();

console.log(`# ${machine()}; onnxruntime-web wasm EP, 1 thread; ${ROUNDS} rounds\n`);
const rows: string[] = [];
for (const { name, k, bytes } of models) {
  const sessions: Record<string, Session> = {};
  for (const [form, b] of Object.entries(bytes)) sessions[form] = await createSession(b);
  for (const batch of [1, 32]) {
    const feeds = { input: new Tensor("float32", floats(batch * k, batch), [batch, k]) };
    const big = k > 1000;
    const runs = quick ? 5 : big ? (batch === 1 ? 30 : 10) : 200;
    const p50: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const form of Object.keys(sessions)) {
        const r = await measureLatency(sessions[form]!, feeds, {
          warmupRuns: 3,
          runs,
          batchSize: batch,
        });
        (p50[form] ??= []).push(r.p50Ms);
      }
    }
    const med = (xs: number[]): number => xs.toSorted((a, b) => a - b)[xs.length >> 1]!;
    const m = Object.fromEntries(Object.entries(p50).map(([f, xs]) => [f, med(xs)]));
    const digits = big ? 2 : 3;
    rows.push(
      `| ${name} | ${batch} | ${m.matmulnbits!.toFixed(digits)} | ${
        m.dequantizelinear!.toFixed(digits)
      } | ${(m.dequantizelinear! / m.matmulnbits!).toFixed(2)}x | ${m.fp32!.toFixed(digits)} | ${
        (bytes.matmulnbits!.length / 1e6).toFixed(2)
      } / ${(bytes.dequantizelinear!.length / 1e6).toFixed(2)} / ${
        (bytes.fp32!.length / 1e6).toFixed(2)
      } |`,
    );
    console.log(rows.at(-1));
  }
  for (const s of Object.values(sessions)) await s.release();
}

console.log(
  "\n| model | batch | MatMulNBits p50 ms | DequantizeLinear p50 ms | DQ / NBits | fp32 p50 ms | MB (NBits / DQ / fp32) |",
);
console.log("| --- | --: | --: | --: | --: | --: | --: |");
for (const row of rows) console.log(row);

const mnist = await loadDataset("mnist");
const top1: Record<string, number> = {};
for (const [form, b] of Object.entries(models[0]!.bytes)) {
  top1[form] = (await evaluateModel(b, { dataset: mnist, latency: false })).accuracy!.top1;
}
console.log(`\nMNIST MLP top-1 (2,000 samples): ${JSON.stringify(top1)}`);
