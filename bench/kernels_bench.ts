/**
 * Kernel benchmarks: the kernels on every backend at 1M and 16M elements, in GB/s of
 * float32 data (4 bytes per element, whatever the output type), beside two bandwidth baselines:
 * `TypedArray.prototype.set` (a JS copy) and WASM `memory.copy` of the same bytes. Prints the
 * machine and the backends, then a markdown table, then the goals of issue 3.
 *
 * Quantize and dequantize are also timed on the copy-free path: into a caller's `out`, and with
 * input and output from `kernels.alloc` (on WASM, views of its memory: no copy in, no copy out,
 * no allocation of the result).
 *
 * Run: `deno run -A bench/kernels_bench.ts [--quick] [--quantize]` (`--quick`: 1M only;
 * `--quantize`: only the baselines and the int8 quantize / dequantize rows, no matmul).
 * @module
 */
import { measure } from "mitata";
import {
  createKernels,
  createWasmCopyBaseline,
  type Kernels,
  type MagnitudeSelection,
} from "@modelpress/kernels";

const QUICK = Deno.args.includes("--quick");
const QUANTIZE_ONLY = Deno.args.includes("--quantize");
const SIZES = QUICK ? [1 << 20] : [1 << 20, 1 << 24];

function machine(): string {
  let cpu = "?";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "?";
  } catch {
    // Not Linux: leave the CPU unnamed.
  }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os} ${Deno.build.arch}, ` +
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`;
}

function data(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 2 ** 32 - 0.5) * 8;
  }
  return x;
}

const CODEBOOK = Float32Array.from({ length: 16 }, (_, i) => (i - 7.5) / 2);

interface Row {
  readonly kernel: string;
  readonly backend: string;
  readonly n: number;
  readonly ms: number;
  readonly gbps: number;
}

const rows: Row[] = [];

async function time(
  kernel: string,
  backend: string,
  n: number,
  fn: () => unknown,
): Promise<Row> {
  const slow = n >= 1 << 24;
  // Warm up for at least three calls and 200 ms, so that V8 has tiered the WASM (Liftoff ->
  // TurboFan) and the JS up before anything is timed.
  const until = performance.now() + 200;
  for (let i = 0; i < 3 || performance.now() < until; i++) await fn();
  const stats = await measure(fn, {
    min_samples: slow ? 3 : 8,
    max_samples: slow ? 8 : 64,
    min_cpu_time: (slow ? 1500 : 500) * 1e6,
  });
  const ms = stats.p50 / 1e6;
  const row = { kernel, backend, n, ms, gbps: (4 * n) / stats.p50 };
  rows.push(row);
  console.error(
    `${kernel.padEnd(34)} ${backend.padEnd(9)} ${label(n).padEnd(4)} ${
      ms.toFixed(3).padStart(9)
    } ms ${row.gbps.toFixed(2).padStart(7)} GB/s`,
  );
  return row;
}

function label(n: number): string {
  return n >= 1 << 20 ? `${n / (1 << 20)}M` : `${n}`;
}

/** int8 quantize and dequantize per tensor: fresh results, a caller's `out`, allocated arrays. */
async function quantizeOn(k: Kernels, n: number, x: Float32Array): Promise<void> {
  const b = k.backend;
  const scale = new Float32Array([0.03125]);
  const options = { type: "int8" as const, scale };
  await time("quantize int8 (per tensor)", b, n, () => k.quantize(x, options));
  const out = new Int8Array(n);
  await time(
    "quantize int8 (per tensor), into out",
    b,
    n,
    () => k.quantize(x, { ...options, out }),
  );
  // The copy-free path: the caller fills an allocated array (here once, as a decoder would) and
  // reads the codes where the kernel wrote them.
  const xa = k.alloc("float32", n);
  xa.set(x);
  const qa = k.alloc("int8", n);
  await time(
    "quantize int8 (per tensor), allocated x and out",
    b,
    n,
    () => k.quantize(xa, { ...options, out: qa }),
  );
  const q = await k.quantize(x, options);
  await time("dequantize int8 (per tensor)", b, n, () => k.dequantize(q, options));
  const back = k.alloc("float32", n);
  await time(
    "dequantize int8 (per tensor), allocated q and out",
    b,
    n,
    () => k.dequantize(qa, { ...options, out: back }),
  );
  for (const a of [xa, qa, back]) k.free(a);
}

async function kernelsOn(k: Kernels, n: number, x: Float32Array): Promise<void> {
  const b = k.backend;
  await quantizeOn(k, n, x);
  if (QUANTIZE_ONLY) return;
  const rows2d = { shape: [1024, n / 1024], axis: 0 };
  const scale = new Float32Array([0.03125]);
  const perAxis = { type: "int8" as const, ...rows2d, scale: new Float32Array(1024).fill(0.03125) };
  await time("reduce sum (whole)", b, n, () => k.reduce("sum", x));
  await time("reduce absmax (whole)", b, n, () => k.reduce("absmax", x));
  await time("reduce min (per axis 0 of [1024, n/1024])", b, n, () => k.reduce("min", x, rows2d));
  await time(
    "reduce max (per axis 1 of [n/1024, 1024])",
    b,
    n,
    () => k.reduce("max", x, { shape: [n / 1024, 1024], axis: 1 }),
  );
  await time(
    "quantize uint8 (per tensor)",
    b,
    n,
    () => k.quantize(x, { type: "uint8", scale, zeroPoint: new Int32Array([128]) }),
  );
  await time("quantize int8 (per axis 0)", b, n, () => k.quantize(x, perAxis));
  await time("quantize int8 (blocks of 32, axis 1)", b, n, () =>
    k.quantize(x, {
      type: "int8",
      shape: [1024, n / 1024],
      axis: 1,
      blockSize: 32,
      scale: new Float32Array(n / 32).fill(0.03125),
    }));
  await time("quantize int4 (blocks of 32, axis 1, packed)", b, n, () =>
    k.quantize(x, {
      type: "int4",
      shape: [1024, n / 1024],
      axis: 1,
      blockSize: 32,
      scale: new Float32Array(n / 32).fill(0.5),
    }));
  await time("histogram (2048 bins)", b, n, () => k.histogram(x, { bins: 2048, min: -4, max: 4 }));
  await time(
    "norm L2 (rows of [1024, n/1024])",
    b,
    n,
    () => k.norm(x, { ord: 2, shape: [1024, n / 1024], axis: 0 }),
  );
  await time("log2Quantize (4 bits)", b, n, () => k.log2Quantize(x, { bits: 4, maxExponent: 2 }));
  await time("codebookEncode (16 codes)", b, n, () => k.codebookEncode(x, CODEBOOK));
  await time("nmMask 2:4 (last axis)", b, n, () => k.nmMask(x, { n: 2, m: 4 }));
  let selection: MagnitudeSelection | undefined;
  await time("selectMagnitude (k = n/2)", b, n, async () => {
    selection = await k.selectMagnitude(x, n / 2);
  });
  const victim = x.slice();
  await time("maskSmallest (in place)", b, n, () => k.maskSmallest(victim, selection!));
}

console.log(`machine: ${machine()}`);
const auto = await createKernels();
const backends = [await createKernels({ backend: "js" }), await createKernels({ backend: "wasm" })];
// WebGPU is timed only on a hardware adapter: a software one says nothing about speed.
if (auto.backend === "webgpu") backends.push(auto);
console.log(`backends: ${backends.map((k) => k.backend).join(", ")} (auto picks ${auto.backend})`);
for (const n of SIZES) {
  const x = data(n);
  const dst = new Float32Array(n);
  await time("baseline: Float32Array.set", "-", n, () => dst.set(x));
  const copy = await createWasmCopyBaseline(4 * n);
  await time("baseline: WASM memory.copy", "-", n, copy);
  if (!QUANTIZE_ONLY) {
    await time("baseline: |x| then sort (threshold by sorting)", "js", n, () => {
      const m = x.slice();
      for (let i = 0; i < n; i++) m[i] = Math.abs(m[i]!);
      m.sort();
      return m[n / 2];
    });
  }
  for (const k of backends) await kernelsOn(k, n, x);
}

if (!QUANTIZE_ONLY) console.log("\nmatmul (GFLOP/s, 2*m*k*n flops):");
for (const k of QUANTIZE_ONLY ? [] : backends) {
  for (const size of [128, 512]) {
    const a = data(size * size);
    const ai = Int8Array.from(a, (v) => Math.round(v * 16));
    const options = { m: size, k: size, n: size };
    const f = await measure(() => k.matmul(a, a, options), { min_samples: 3, max_samples: 20 });
    const i = await measure(() => k.matmulInt8(ai, ai, options), {
      min_samples: 3,
      max_samples: 20,
    });
    const flops = 2 * size ** 3;
    console.log(
      `${k.backend.padEnd(6)} ${size}^3: float32 ${(flops / f.p50).toFixed(2)} GFLOP/s, ` +
        `int8 ${(flops / i.p50).toFixed(2)} GOP/s`,
    );
  }
}

const lines = ["| kernel | backend | elements | ms (p50) | GB/s |", "|---|---|---:|---:|---:|"];
for (const r of rows) {
  lines.push(
    `| ${r.kernel} | ${r.backend} | ${label(r.n)} | ${r.ms.toFixed(2)} | ${r.gbps.toFixed(2)} |`,
  );
}
console.log(lines.join("\n"));

function find(kernel: string, backend: string, n: number): Row | undefined {
  return rows.find((r) => r.kernel === kernel && r.backend === backend && r.n === n);
}
/**
 * The bandwidth goal on a shared machine: rounds that each time TypedArray.set and the three
 * WASM int8 quantize paths back to back (median of `calls` calls each), so that load which
 * comes and goes hits baseline and kernel alike; the ratio is taken per round.
 */
async function goalRounds(n: number, k: Kernels): Promise<void> {
  const x = data(n);
  const dst = new Float32Array(n);
  const options = { type: "int8" as const, scale: new Float32Array([0.03125]) };
  const out = new Int8Array(n);
  const xa = k.alloc("float32", n);
  xa.set(x);
  const qa = k.alloc("int8", n);
  const paths: Record<string, () => unknown> = {
    "fresh result": () => k.quantize(x, options),
    "into out": () => k.quantize(x, { ...options, out }),
    "allocated x and out": () => k.quantize(xa, { ...options, out: qa }),
  };
  const calls = n >= 1 << 24 ? 5 : 21;
  const rounds = n >= 1 << 24 ? 7 : 15;
  const p50 = async (fn: () => unknown): Promise<number> => {
    const t: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await fn();
      t.push(performance.now() - t0);
    }
    return median(t);
  };
  for (const fn of [() => dst.set(x), ...Object.values(paths)]) await p50(fn);
  const ratios: Record<string, number[]> = {};
  const ms: Record<string, number[]> = {};
  const sets: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const set = await p50(() => dst.set(x));
    sets.push(set);
    for (const [name, fn] of Object.entries(paths)) {
      const t = await p50(fn);
      (ms[name] ??= []).push(t);
      (ratios[name] ??= []).push(set / t);
    }
  }
  console.log(
    `${label(n)}, ${rounds} interleaved rounds: TypedArray.set ${median(sets).toFixed(3)} ms ` +
      `(${((4 * n) / median(sets) / 1e6).toFixed(2)} GB/s)`,
  );
  for (const name of Object.keys(paths)) {
    const pct = ratios[name]!.map((v) => 100 * v).sort((a, b) => a - b);
    console.log(
      `  WASM int8 quantize, ${name}: ${median(ms[name]!).toFixed(3)} ms; ` +
        `${median(pct).toFixed(0)}% of TypedArray.set (rounds ${pct[0]!.toFixed(0)}-` +
        `${pct[pct.length - 1]!.toFixed(0)}%; goal >= 30%)`,
    );
  }
  k.free(xa);
  k.free(qa);
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 === 1
    ? v[(v.length - 1) / 2]!
    : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

console.log("\ngoals (issue 3):");
for (const n of SIZES) {
  const set = find("baseline: Float32Array.set", "-", n)!;
  const js = find("quantize int8 (per tensor)", "js", n)!;
  for (
    const kernel of [
      "quantize int8 (per tensor)",
      "quantize int8 (per tensor), into out",
      "quantize int8 (per tensor), allocated x and out",
    ]
  ) {
    const wasm = find(kernel, "wasm", n)!;
    console.log(
      `${label(n)}: WASM ${kernel}: ${wasm.ms.toFixed(3)} ms, ${wasm.gbps.toFixed(2)} GB/s = ` +
        `${(js.ms / wasm.ms).toFixed(1)}x the reference's fresh-result call (goal >= 4x), ` +
        `${((100 * wasm.gbps) / set.gbps).toFixed(0)}% of TypedArray.set (goal >= 30%)`,
    );
  }
  const sort = find("baseline: |x| then sort (threshold by sorting)", "js", n);
  for (const b of ["js", "wasm"]) {
    const sel = find("selectMagnitude (k = n/2)", b, n);
    if (sort === undefined || sel === undefined) continue;
    console.log(
      `${label(n)}: selectMagnitude on ${b} = ${
        (sort.ms / sel.ms).toFixed(1)
      }x faster than sorting (goal >= 5x at 16M)`,
    );
  }
}

console.log("\nbandwidth goal, interleaved (issue 3):");
const wasmKernels = backends.find((k) => k.backend === "wasm")!;
for (const n of SIZES) await goalRounds(n, wasmKernels);
