/**
 * Pruning end to end on the MNIST fixtures: accuracy (onnxruntime-web, the 2,000-sample test
 * split) and file size after each method and sparsity, prune-then-quantize sizes, and whether the
 * sparse storage costs anything at run time (session creation and batch-1 latency against the
 * same pruned model stored densely). Prints the machine and the kernels' backend first, then
 * markdown tables for bench/README.md.
 *
 * Run: `deno run -A bench/prune_bench.ts`
 * @module
 */
import { decodeModel, encodeModel } from "@modelpress/onnx";
import {
  countMacs,
  createSession,
  evaluateModel,
  loadDataset,
  measureLatency,
  runSession,
  Tensor,
} from "@modelpress/evaluate";
import { createKernels } from "@modelpress/kernels";
import { quantizeModel } from "@modelpress/quantize";
import { countParameters, pruneModel, type PruneRecipe, sparsifyStorage } from "@modelpress/prune";

const root = new URL("../", import.meta.url);
const MLP = await Deno.readFile(new URL("test/fixtures/mnist_mlp.onnx", root));
const CNN = await Deno.readFile(new URL("test/fixtures/mnist_cnn.onnx", root));
const test = await loadDataset("mnist", { split: "test" });
const train = await loadDataset("mnist", { split: "train" });
const kernels = await createKernels();

function machine(): string {
  let cpu = "?";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "?";
  } catch { /* not Linux */ }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
}

async function top1(bytes: Uint8Array): Promise<number> {
  const r = await evaluateModel(bytes, { dataset: test, latency: false });
  return r.accuracy!.top1;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

console.log(
  `# ${machine()}; kernels backend ${kernels.backend}; onnxruntime-web wasm EP, 1 thread\n`,
);

// 1. Accuracy and size by method.
const recipes: [string, Uint8Array, PruneRecipe][] = [];
for (const k of [0.5, 0.7, 0.9]) {
  recipes.push(["mlp", MLP, { method: "magnitude", sparsity: k }]);
  recipes.push(["mlp", MLP, { method: "magnitude", sparsity: k, global: true }]);
  recipes.push(["mlp", MLP, { method: "wanda", sparsity: k, calibration: { samples: 512 } }]);
  recipes.push(["mlp", MLP, { method: "random", sparsity: k, seed: 1 }]);
}
recipes.push(["mlp", MLP, { method: "nm", pattern: "2:4" }]);
recipes.push(["mlp", MLP, { method: "nm", pattern: "4:8" }]);
recipes.push(["mlp", MLP, { method: "neuron", sparsity: 0.5 }]);
recipes.push(["cnn", CNN, { method: "magnitude", sparsity: 0.5 }]);
recipes.push(["cnn", CNN, { method: "magnitude", sparsity: 0.5, global: true }]);
recipes.push(["cnn", CNN, { method: "magnitude", sparsity: 0.5, exclude: [{ name: "conv1" }] }]);
recipes.push(["cnn", CNN, { method: "wanda", sparsity: 0.5, calibration: { samples: 512 } }]);
recipes.push([
  "cnn",
  CNN,
  { method: "wanda", sparsity: 0.5, exclude: [{ name: "conv1" }], calibration: { samples: 512 } },
]);
recipes.push(["cnn", CNN, { method: "channel", sparsity: 0.3 }]);
recipes.push([
  "cnn",
  CNN,
  {
    method: "channel",
    sparsity: 0.3,
    recovery: { batchNorm: true },
    calibration: { samples: 512 },
  },
]);

const base: Record<string, number> = { mlp: await top1(MLP), cnn: await top1(CNN) };
console.log(
  "| model | recipe | top-1 | drop (pp) | nonzero params | file (% of dense) | prune ms |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
console.log(`| mlp | dense | ${pct(base.mlp!)} | 0 | 235,146 | 100% | - |`);
console.log(`| cnn | dense | ${pct(base.cnn!)} | 0 | 32,690 | 100% | - |`);
let failures = 0;
for (const [name, bytes, recipe] of recipes) {
  const model = decodeModel(bytes);
  try {
    const { report } = await pruneModel(model, { recipe, kernels, dataset: train });
    const out = encodeModel(model);
    const acc = await top1(out);
    const label = JSON.stringify(recipe).replaceAll('"', "").replaceAll(",", ", ");
    console.log(
      `| ${name} | ${label} | ${pct(acc)} | ${((base[name]! - acc) * 100).toFixed(2)} | ` +
        `${report.totals.nonzero.after.toLocaleString("en")} | ` +
        `${pct(out.length / bytes.length)} | ${report.timeMs.toFixed(0)} |`,
    );
  } catch (e) {
    failures++;
    console.log(`| ${name} | ${JSON.stringify(recipe)} | failed: ${(e as Error).message} |`);
  }
}

// 2. Prune then quantize: both savings.
console.log("\n| MNIST MLP | bytes | % of dense fp32 | top-1 |");
console.log("| --- | --- | --- | --- |");
const row = async (label: string, bytes: Uint8Array): Promise<void> => {
  console.log(
    `| ${label} | ${bytes.length.toLocaleString("en")} | ${pct(bytes.length / MLP.length)} | ${
      pct(await top1(bytes))
    } |`,
  );
};
await row("fp32 dense", MLP);
const pruned = decodeModel(MLP);
await pruneModel(pruned, {
  recipe: { method: "magnitude", sparsity: 0.5, global: true, storage: "dense" },
  kernels,
});
const prunedDense = encodeModel(pruned);
await row("50% global magnitude, dense storage", prunedDense);
const prunedSparse = decodeModel(prunedDense);
sparsifyStorage(prunedSparse);
const prunedSparseBytes = encodeModel(prunedSparse);
await row("50% global magnitude, sparse storage", prunedSparseBytes);
for (const method of ["linear", "dynamic"] as const) {
  const q = decodeModel(MLP);
  await quantizeModel(q, { method }, { kernels });
  await row(`int8 ${method}`, encodeModel(q));
  const pq = decodeModel(prunedDense);
  await quantizeModel(pq, { method }, { kernels });
  await row(`50% pruned + int8 ${method}, dense`, encodeModel(pq));
  sparsifyStorage(pq);
  await row(`50% pruned + int8 ${method}, sparse storage`, encodeModel(pq));
}

// 3. What the sparse storage costs when loading and running (constant folding at load).
console.log("\n| 50%-pruned MLP | session create ms (median of 9) | batch-1 latency p50 ms |");
console.log("| --- | --- | --- |");
// Dense twice, first and last, so that warm-up order cannot pass for a difference.
for (
  const [label, bytes] of [
    ["dense storage", prunedDense],
    ["sparse storage", prunedSparseBytes],
    ["dense storage (again)", prunedDense],
  ] as const
) {
  const creates: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    const s = await createSession(bytes);
    creates.push(performance.now() - t);
    await s.release();
  }
  creates.sort((a, b) => a - b);
  const session = await createSession(bytes);
  const image = Float32Array.from(
    Object.values(test.inputs)[0]!.data.slice(0, 784) as ArrayLike<number>,
  );
  const feeds = { input: new Tensor("float32", image, [1, 784]) };
  await runSession(session, feeds);
  const latency = await measureLatency(session, feeds, { runs: 300, warmupRuns: 20 });
  await session.release();
  console.log(`| ${label} | ${creates[4]!.toFixed(2)} | ${latency.p50Ms.toFixed(4)} |`);
}
// 4. Structured pruning makes the model smaller and faster: MACs and latency against dense, at
// batch 1 and 64, dense measured before and after the pruned model (order effects show up).
console.log(
  "\n| model | pruning | params | MACs per sample | batch | latency p50 ms | latency p90 ms |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
const structured: [string, Uint8Array, PruneRecipe, number[]][] = [
  ["mlp", MLP, { method: "neuron", sparsity: 0.5 }, [784]],
  ["cnn", CNN, { method: "channel", sparsity: 0.3 }, [1, 28, 28]],
];
for (const [name, bytes, recipe, sampleShape] of structured) {
  const pruned = decodeModel(bytes);
  await pruneModel(pruned, { recipe, kernels });
  const prunedBytes = encodeModel(pruned);
  const pixels = Object.values(test.inputs)[0]!.data as ArrayLike<number>;
  for (const batch of [1, 64]) {
    const image = Float32Array.from(Array.prototype.slice.call(pixels, 0, 784 * batch));
    const feeds = { input: new Tensor("float32", image, [batch, ...sampleShape]) };
    for (
      const [label, model] of [
        ["dense", bytes],
        [`${recipe.method} ${recipe.sparsity}`, prunedBytes],
        ["dense (again)", bytes],
      ] as const
    ) {
      const decoded = decodeModel(model);
      const macs = countMacs(decoded.graph!, { batchSize: 1 }).total;
      const params = countParameters(decoded.graph!).params;
      const session = await createSession(model);
      await runSession(session, feeds);
      const latency = await measureLatency(session, feeds, { runs: 300, warmupRuns: 30 });
      await session.release();
      console.log(
        `| ${name} | ${label} | ${params.toLocaleString("en-US")} | ${
          macs.toLocaleString("en-US")
        } | ${batch} | ${latency.p50Ms.toFixed(4)} | ${latency.p90Ms.toFixed(4)} |`,
      );
    }
  }
}

kernels.dispose();
if (failures > 0) Deno.exitCode = 1;
