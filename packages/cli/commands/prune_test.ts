import assert from "node:assert/strict";
import {
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeValueInfo,
  tensorData,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { loadDataset, Tensor } from "@modelpress/evaluate";
import { densifyStorage, type PruneReport } from "@modelpress/prune";
import { memoryIo } from "../cli_io.ts";
import { main } from "../main.ts";
import { assertBadRecipeFiles, assertUsageErrors, exists } from "../_testing.ts";
import { runModel } from "../../../test/support/run_model.ts";
import { withTempDir } from "../../../test/support/temp_dir.ts";

const MLP = new URL("../../../test/fixtures/mnist_mlp.onnx", import.meta.url).pathname;
const CNN = new URL("../../../test/fixtures/mnist_cnn.onnx", import.meta.url).pathname;
const WEIGHTS = ["fc1.weight", "fc2.weight", "fc3.weight"];
const SAMPLES = 500;

/**
 * Every 4th MNIST test digit ({@linkcode SAMPLES} of them: the split is sorted by label, so a
 * prefix would hold only 0s, 1s and 2s), their labels, and the fp32 MLP's predictions.
 */
const mnist = await loadDataset("mnist");
const all = mnist.inputs.images!.data as Float32Array;
const images = new Float32Array(SAMPLES * 784);
for (let i = 0; i < SAMPLES; i++) images.set(all.subarray(i * 4 * 784, (i * 4 + 1) * 784), i * 784);
const labels = Array.from({ length: SAMPLES }, (_, i) => Number(mnist.labels!.data[i * 4]));
const fp32 = await predictions(await Deno.readFile(MLP), [SAMPLES, 784]);

async function predictions(model: Uint8Array, dims: number[]): Promise<number[]> {
  const { logits } = await runModel(model, { input: new Tensor("float32", images, dims) });
  assert.deepEqual(logits?.dims, [SAMPLES, 10]);
  const data = logits!.data as Float32Array;
  return Array.from({ length: SAMPLES }, (_, i) => {
    const row = data.subarray(i * 10, i * 10 + 10);
    return row.indexOf(Math.max(...row));
  });
}

function agreement(a: readonly number[], b: readonly number[]): number {
  return a.filter((v, i) => v === b[i]).length / a.length;
}

/** The named weights of a written model, dense again. */
async function weightsOf(path: string): Promise<Map<string, Float32Array>> {
  const model = decodeModel(await Deno.readFile(path));
  densifyStorage(model);
  return new Map(
    model.graph!.initializer.map((t) => [t.name, tensorData(t) as Float32Array] as const),
  );
}

const zeros = (data: Float32Array): number => data.filter((v) => v === 0).length;

Deno.test("prune --method magnitude --sparsity 0.5 --global: exactly half the weights go, the file shrinks, accuracy holds", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const args = ["--method", "magnitude", "--sparsity", "0.5", "--global"];
    assert.equal(
      await main(["prune", MLP, "-o", `${dir}/p.onnx`, ...args], io),
      0,
      io.stderr.text(),
    );
    assert.equal(io.stderr.text(), "", "no progress bar when stderr is not a terminal");
    const out = io.stdout.text();
    assert.match(out, /^Recipe +magnitude, 50\.0% removed, global, storage auto$/m);
    assert.match(out, /^Kernels +(wasm|js|webgpu)$/m);
    assert.match(out, /^Layers: 3 pruned, 0 skipped$/m);
    assert.match(out, /^ {2}fc1 +Gemm +256x784 +200,704 +200,704 +\d+\.\d%$/m);
    assert.match(out, /^ {2}params +235,146 +235,146 +100\.0% of before$/m);
    assert.match(out, /^ {2}nonzero +235,146 +117,770 +50\.1% of before$/m);
    assert.match(out, /^ {2}sparsity +0\.0% +49\.9% +of the original params gone or zero$/m);
    assert.match(
      out,
      /^ {2}MACs +234,752 +234,752 +100\.0% of before; 117,376 on nonzero weights$/m,
    );
    assert.match(out, /^ {2}bytes +919 KiB +\d+ KiB +5\d\.\d% of before \(1\.\d\dx smaller\)$/m);
    assert.match(out, /^Time +\d+ ms: read \d+ ms, prune \d+ ms, write \d+ ms$/m);
    assert.match(out, /^Wrote +\S+p\.onnx$/m);
    assert.ok(out.split("\n").every((line) => line === line.trimEnd()), "no trailing spaces");

    const bytes = await Deno.readFile(`${dir}/p.onnx`);
    assert.ok(bytes.length <= 0.65 * (await Deno.stat(MLP)).size, `${bytes.length} bytes`);
    const weights = await weightsOf(`${dir}/p.onnx`);
    const all = WEIGHTS.map((n) => weights.get(n)!);
    const n = all.reduce((a, w) => a + w.length, 0);
    assert.equal(all.reduce((a, w) => a + zeros(w), 0), Math.round(0.5 * n));
    const got = await predictions(bytes, [SAMPLES, 784]);
    const drop = agreement(fp32, labels) - agreement(got, labels);
    assert.ok(drop <= 0.01, `accuracy drop ${drop}`);
  });
});

Deno.test("prune --method nm --pattern 2:4 keeps 2 of every 4 inputs in every row, and runs", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const args = ["prune", MLP, "-o", `${dir}/nm.onnx`, "--method", "nm", "--pattern", "2:4"];
    assert.equal(await main(args, io), 0, io.stderr.text());
    assert.match(io.stdout.text(), /^Recipe +nm, 50\.0% removed, pattern 2:4, storage auto$/m);
    const weights = await weightsOf(`${dir}/nm.onnx`);
    // Gemm weights are [out, in] (transB = 1): groups of 4 consecutive inputs per output row.
    for (const name of WEIGHTS) {
      const w = weights.get(name)!;
      for (let g = 0; g < w.length; g += 4) {
        assert.ok(zeros(w.subarray(g, g + 4)) >= 2, `${name} group ${g / 4}`);
      }
    }
    const got = await predictions(await Deno.readFile(`${dir}/nm.onnx`), [SAMPLES, 784]);
    assert.ok(agreement(got, fp32) >= 0.9, `top-1 agreement ${agreement(got, fp32)}`);
  });
});

Deno.test("prune --method wanda calibrates on MNIST, draws its bar on a terminal, and runs", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo({ isTerminal: true, columns: 100 });
    const args = [
      "prune",
      MLP,
      "-o",
      `${dir}/w.onnx`,
      "--method",
      "wanda",
      "--sparsity",
      "0.6",
      "--calibration",
      "mnist",
      "--json",
    ];
    assert.equal(await main(args, io), 0, io.stderr.text());
    assert.match(io.stderr.text(), /\rprune \[/);
    assert.ok(io.stderr.text().endsWith("\r\u001b[K"), "the bar's line is cleared");
    const report: PruneReport = JSON.parse(io.stdout.text());
    assert.deepEqual(report.recipe, { method: "wanda", sparsity: 0.6 });
    // Wanda removes round(k * inputs) of every output row.
    for (const layer of report.layers) {
      const [rows, cols] = layer.shape as [number, number];
      assert.equal(layer.zerosAfter, rows * Math.round(0.6 * cols), layer.node);
    }
    const got = await predictions(await Deno.readFile(`${dir}/w.onnx`), [SAMPLES, 784]);
    const drop = agreement(fp32, labels) - agreement(got, labels);
    assert.ok(drop <= 0.03, `accuracy drop ${drop}`);
  });
});

Deno.test("prune --method neuron removes half the hidden units: the model is smaller and runs", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const args = ["prune", MLP, "-o", `${dir}/n.onnx`, "--method", "neuron", "--sparsity", "0.5"];
    assert.equal(await main([...args, "--report", `${dir}/r.json`], io), 0, io.stderr.text());
    const out = io.stdout.text();
    assert.match(out, /^ {2}node +op +shape +params +after +sparsity +units removed$/m);
    assert.match(out, /^ {2}fc1 +Gemm +128x784 +200,704 +100,352 +50\.0% +128$/m);
    assert.match(out, /^Not pruned\n.*\n.*\n {2}fc3 +Gemm +it feeds graph output 'logits'$/m);
    const report: PruneReport = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    const { params } = report.totals;
    assert.ok(params.after < 0.55 * params.before, `params ${params.before} -> ${params.after}`);
    const weights = await weightsOf(`${dir}/n.onnx`);
    assert.equal(weights.get("fc1.weight")?.length, 128 * 784);
    const got = await predictions(await Deno.readFile(`${dir}/n.onnx`), [SAMPLES, 784]);
    assert.ok(agreement(got, fp32) >= 0.8, `top-1 agreement ${agreement(got, fp32)}`);
  });
});

Deno.test("prune --method channel --sparsity 0.3 cuts the CNN's MACs; --recovery batchnorm wins accuracy back", async () => {
  await withTempDir(async (dir) => {
    const accuracy = async (path: string): Promise<number> =>
      agreement(await predictions(await Deno.readFile(path), [SAMPLES, 1, 28, 28]), labels);
    const args = ["prune", CNN, "--method", "channel", "--sparsity", "0.3", "--json"];
    const plain = memoryIo();
    assert.equal(await main([...args, "-o", `${dir}/c.onnx`], plain), 0, plain.stderr.text());
    const report: PruneReport = JSON.parse(plain.stdout.text());
    const macs = report.totals.macs!;
    assert.ok(macs.after < 0.7 * macs.before, `MACs ${macs.before} -> ${macs.after}`);
    assert.ok(report.layers.some((l) => (l.unitsRemoved ?? 0) > 0));

    const recovered = memoryIo();
    const recovery = ["--recovery", "batchnorm", "--calibration", "mnist", "-o", `${dir}/r.onnx`];
    assert.equal(await main([...args, ...recovery], recovered), 0, recovered.stderr.text());
    assert.deepEqual(JSON.parse(recovered.stdout.text()).recipe.recovery, {
      batchNorm: true,
      biasCorrection: false,
    });
    const [without, withBn] = [await accuracy(`${dir}/c.onnx`), await accuracy(`${dir}/r.onnx`)];
    assert.ok(withBn > without, `accuracy ${without} without recovery, ${withBn} with`);
  });
});

Deno.test("prune --report writes the library's JSON report; --json prints it", async () => {
  await withTempDir(async (dir) => {
    const args = ["prune", MLP, "-o", `${dir}/p.onnx`, "--method", "random", "--sparsity", "0.3"];
    const steps = ["--steps", "3", "--seed", "4", "--storage", "dense"];
    const io = memoryIo();
    assert.equal(await main([...args, ...steps, "--report", `${dir}/r.json`], io), 0);
    assert.match(io.stdout.text(), /^Report +\S+r\.json$/m);
    assert.match(
      io.stdout.text(),
      /^Recipe +random, 30\.0% removed, per layer, 3 steps, storage dense$/m,
    );
    assert.match(io.stdout.text(), /^ {2}step +sparsity +zeros$/m);
    const report: PruneReport = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.schema, "modelpress.prune/1");
    assert.deepEqual(report.recipe, {
      method: "random",
      sparsity: 0.3,
      storage: "dense",
      seed: 4,
      schedule: { steps: 3 },
    });
    assert.deepEqual(report.steps.map((s) => s.step), [1, 2, 3]);
    assert.deepEqual(report.storage, []);
    assert.equal(report.totals.bytes.after, (await Deno.stat(`${dir}/p.onnx`)).size);
    const weights = await weightsOf(`${dir}/p.onnx`);
    for (const name of WEIGHTS) {
      const w = weights.get(name)!;
      assert.equal(zeros(w), Math.round(0.3 * w.length), name);
    }

    const json = memoryIo();
    assert.equal(await main([...args, ...steps, "--json"], json), 0);
    assert.ok(json.stdout.text().endsWith("}\n"));
    const printed: PruneReport = JSON.parse(json.stdout.text());
    const strip = (r: PruneReport): unknown => ({ ...r, timeMs: undefined });
    assert.deepEqual(strip(printed), strip(report));
  });
});

Deno.test("prune --recipe: flags replace the file's settings, its exclusions stay", async () => {
  await withTempDir(async (dir) => {
    const recipe = { method: "magnitude", sparsity: 0.8, exclude: [{ name: "fc3" }] };
    await Deno.writeTextFile(`${dir}/recipe.json`, JSON.stringify(recipe));
    const io = memoryIo();
    const args = ["prune", MLP, "-o", `${dir}/p.onnx`, "--recipe", `${dir}/recipe.json`];
    assert.equal(await main([...args, "--sparsity", "0.4", "--json"], io), 0, io.stderr.text());
    const report: PruneReport = JSON.parse(io.stdout.text());
    assert.deepEqual(report.recipe, { ...recipe, sparsity: 0.4 });
    assert.deepEqual(report.layers.map((l) => [l.node, l.zerosAfter]), [
      ["fc1", Math.round(0.4 * 200704)],
      ["fc2", Math.round(0.4 * 32768)],
    ]);

    const text = memoryIo();
    assert.equal(await main(args, text), 0);
    assert.match(text.stdout.text(), /^Layers: 2 pruned, 0 skipped, 1 not prunable$/m);
    assert.match(text.stdout.text(), /^ {2}fc3 +Gemm +excluded$/m);

    // A method given by flag fills a file that has none; a file's pattern goes with its method.
    await Deno.writeTextFile(`${dir}/nm.json`, '{"pattern": "4:8"}');
    const filled = memoryIo();
    const fill = ["prune", MLP, "-o", `${dir}/nm.onnx`, "--recipe", `${dir}/nm.json`];
    assert.equal(await main([...fill, "--method", "nm", "--json"], filled), 0);
    assert.deepEqual(JSON.parse(filled.stdout.text()).recipe, {
      method: "nm",
      pattern: "4:8",
      sparsity: 0.5,
    });
  });
});

Deno.test("prune fails with exit code 1 and the validator's message for a bad recipe file", async () => {
  const cases: [string, RegExp][] = [
    [
      '{"method": "magnitude", "sparsity": 1.5}',
      /^error: Cannot use recipe '\S+r\.json': sparsity must be in \[0, 1\), got 1\.5\n$/,
    ],
    [
      '{"method": "magnitude", "sparsty": 0.5}',
      /^error: Cannot use recipe '\S+r\.json': unknown field 'sparsty'\n$/,
    ],
    [
      '{"method": "nm", "sparsity": 0.3}',
      /^error: Cannot use recipe '\S+r\.json': method 'nm' with pattern 2:4 removes 0\.5, got sparsity 0\.3\n$/,
    ],
    ['{"sparsity": 0.5}', /^error: Cannot use recipe '\S+r\.json': method is required\n$/],
    ['{"method": ', /^error: Cannot read recipe '\S+r\.json': not valid JSON: /],
  ];
  await assertBadRecipeFiles("prune", MLP, cases);
});

Deno.test("prune exits 2 on wrong usage and invalid option values, naming the problem", async () => {
  const out = ["-o", "out.onnx"];
  const cases: [string[], RegExp][] = [
    [[], /Missing IN/],
    [["a.onnx", "--method", "magnitude"], /Missing -o OUT/],
    [["a.onnx", ...out], /Missing --method/],
    [["a.onnx", "b.onnx", ...out], /Unexpected argument 'b\.onnx'/],
    [
      ["a.onnx", ...out, "--method", "fast"],
      /unknown method 'fast'; use magnitude, random, nm, wanda, neuron, channel/,
    ],
    [["a.onnx", ...out, "--method", "nm", "--pattern", "1:4"], /unknown pattern '1:4'/],
    [["a.onnx", ...out, "--method", "neuron", "--importance", "l3"], /unknown importance 'l3'/],
    [["a.onnx", ...out, "--method", "nm", "--storage", "zip"], /unknown storage mode 'zip'/],
    [
      ["a.onnx", ...out, "--method", "magnitude", "--sparsity", "half"],
      /'--sparsity' needs a number/,
    ],
    [
      ["a.onnx", ...out, "--method", "magnitude", "--sparsity", "1"],
      /These options make no valid recipe: sparsity must be in \[0, 1\), got 1/,
    ],
    [
      ["a.onnx", ...out, "--method", "magnitude", "--steps", "2.5"],
      /'--steps' needs a whole number/,
    ],
    [["a.onnx", ...out, "--method", "magnitude", "--steps", "0"], /schedule\.steps must be/],
    [
      ["a.onnx", ...out, "--method", "nm", "--sparsity", "0.3"],
      /method 'nm' with pattern 2:4 removes 0\.5, got sparsity 0\.3/,
    ],
    [["a.onnx", ...out, "--method", "wanda", "--global"], /global is only supported by methods/],
    [["a.onnx", ...out, "--method", "magnitude", "--pattern", "2:4"], /pattern is only used by/],
    [["a.onnx", ...out, "--method", "magnitude", "--importance", "l1"], /importance is only used/],
    [
      ["a.onnx", ...out, "--method", "wanda"],
      /Missing --calibration: --method wanda needs a dataset/,
    ],
    [
      ["a.onnx", ...out, "--method", "channel", "--importance", "activation"],
      /Missing --calibration: --importance activation needs a dataset/,
    ],
    [
      ["a.onnx", ...out, "--method", "magnitude", "--calibration", "mnist"],
      /Option '--calibration' is only used by --method wanda/,
    ],
    [["a.onnx", ...out, "--method", "channel", "--recovery", "bn"], /unknown recovery 'bn'/],
    [
      ["a.onnx", ...out, "--method", "channel", "--recovery", "batchnorm,bias"],
      /Missing --calibration: recovery needs a dataset/,
    ],
    [
      ["a.onnx", ...out, "--method", "nm", "--recovery", "bias"],
      /recovery is only used by methods 'neuron' and 'channel'/,
    ],
    [["a.onnx", ...out, "--method", "magnitude", "--fast"], /Unknown option '--fast'/],
  ];
  await assertUsageErrors("prune", cases);
});

Deno.test("prune exits 1 with one clear line for missing, invalid and unprunable models", async () => {
  await withTempDir(async (dir) => {
    const args = ["-o", `${dir}/p.onnx`, "--method", "magnitude"];
    const missing = memoryIo();
    assert.equal(await main(["prune", `${dir}/none.onnx`, ...args], missing), 1);
    assert.equal(missing.stderr.text(), `error: Cannot prune '${dir}/none.onnx': file not found\n`);

    await Deno.writeFile(`${dir}/bad.onnx`, new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff]));
    const bad = memoryIo();
    assert.equal(await main(["prune", `${dir}/bad.onnx`, ...args], bad), 1);
    assert.match(
      bad.stderr.text(),
      /^error: Cannot read '\S+bad\.onnx': not a valid ONNX model \(at byte \d+: /,
    );
    assert.equal(bad.stderr.text().split("\n").length, 2, "one line, no stack");

    // A MatMul whose weight is a graph input, not a constant: nothing can be pruned.
    const F = TensorProto_DataType.FLOAT;
    const model = makeModel(
      makeGraph("g", {
        nodes: [makeNode("MatMul", { name: "mm", inputs: ["x", "w"], outputs: ["y"] })],
        inputs: [
          makeValueInfo("x", F, { shape: [1, 4] }),
          makeValueInfo("w", F, { shape: [4, 4] }),
        ],
        outputs: [makeValueInfo("y", F, { shape: [1, 4] })],
      }),
      { irVersion: 8, opsetImports: [{ version: 13 }] },
    );
    await Deno.writeFile(`${dir}/input_weight.onnx`, encodeModel(model));
    const none = memoryIo();
    assert.equal(await main(["prune", `${dir}/input_weight.onnx`, ...args], none), 1);
    assert.match(
      none.stderr.text(),
      /^error: Cannot prune '\S+input_weight\.onnx': no layer can be pruned: node 'mm' \(MatMul\): \S/,
    );
    assert.equal(none.stderr.text().split("\n").length, 2, "one line");

    // Channel pruning of an MLP: every group says why it lost nothing.
    const mlp = memoryIo();
    assert.equal(await main(["prune", MLP, "-o", `${dir}/p.onnx`, "--method", "channel"], mlp), 1);
    assert.equal(
      mlp.stderr.text(),
      `error: Cannot prune '${MLP}': no layer can be pruned: ` +
        "node 'fc1' (Gemm): channel pruning does not prune Gemm layers; " +
        "node 'fc2' (Gemm): channel pruning does not prune Gemm layers; " +
        "node 'fc3' (Gemm): it feeds graph output 'logits'\n",
    );
    assert.ok(!(await exists(`${dir}/p.onnx`)), "nothing written");
  });
});

Deno.test("prune --help prints usage, the methods and the options; main lists it", async () => {
  const io = memoryIo();
  assert.equal(await main(["prune", "--help"], io), 0);
  assert.match(
    io.stdout.text(),
    /^Usage: modelpress prune IN -o OUT --method magnitude\|random\|nm/,
  );
  assert.match(io.stdout.text(), /^ {2}random +Remove seeded random weights: a baseline/m);
  for (
    const flag of [
      "--sparsity K",
      "--global",
      "--pattern N:M",
      "--importance NAME",
      "--calibration DATA",
      "--storage MODE",
      "--recovery LIST",
      "--steps N",
      "--recipe FILE.json",
      "--report FILE.json",
      "--json",
    ]
  ) {
    assert.ok(io.stdout.text().includes(flag), flag);
  }
  const top = memoryIo();
  assert.equal(await main(["--help"], top), 0);
  assert.match(top.stdout.text(), /^ {2}prune +Prune a model/m);
});
