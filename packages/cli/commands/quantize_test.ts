import assert from "node:assert/strict";
import {
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { loadDataset, Tensor } from "@modelpress/evaluate";
import type { QuantizationReport } from "@modelpress/quantize";
import { memoryIo } from "../cli_io.ts";
import { PROGRESS_MIN_BYTES } from "../file_progress.ts";
import { main } from "../main.ts";
import { assertBadRecipeFiles, assertUsageErrors, exists } from "../_testing.ts";
import { runModel } from "../../../test/support/run_model.ts";
import { withTempDir } from "../../../test/support/temp_dir.ts";

const MLP = new URL("../../../test/fixtures/mnist_mlp.onnx", import.meta.url).pathname;
const SAMPLES = 500;

/** The first {@linkcode SAMPLES} test digits, their labels, and the fp32 MLP's predictions. */
const mnist = await loadDataset("mnist");
const images = mnist.inputs.images!;
const feeds = {
  input: new Tensor("float32", (images.data as Float32Array).slice(0, SAMPLES * 784), [
    SAMPLES,
    784,
  ]),
};
const labels = Array.from(mnist.labels!.data.slice(0, SAMPLES), Number);
const fp32 = predictions(await runModel(await Deno.readFile(MLP), feeds));

function predictions(outputs: Record<string, { data: ArrayLike<unknown> }>): number[] {
  const logits = outputs.logits!.data as Float32Array;
  return Array.from({ length: SAMPLES }, (_, i) => {
    const row = logits.subarray(i * 10, i * 10 + 10);
    return row.indexOf(Math.max(...row));
  });
}

function agreement(a: readonly number[], b: readonly number[]): number {
  return a.filter((v, i) => v === b[i]).length / a.length;
}

for (
  const [flags, op, maxRatio] of [
    [["--method", "int4"], "MatMulNBits", 0.2],
    [["--method", "log", "--bits", "6"], "Gather", 0.3],
    [["--method", "kmeans", "--bits", "4"], "Gather", 0.2],
  ] as const
) {
  Deno.test(`quantize ${flags.join(" ")} writes an MLP that runs and agrees with fp32`, async () => {
    await withTempDir(async (dir) => {
      const io = memoryIo();
      assert.equal(
        await main(["quantize", MLP, "-o", `${dir}/q.onnx`, ...flags], io),
        0,
        io.stderr.text(),
      );
      const bytes = await Deno.readFile(`${dir}/q.onnx`);
      assert.ok(bytes.length <= maxRatio * (await Deno.stat(MLP)).size, `${bytes.length} bytes`);
      assert.ok(decodeModel(bytes).graph!.node.some((n) => n.opType === op), `uses ${op}`);
      const got = predictions(await runModel(bytes, feeds));
      assert.ok(agreement(got, fp32) >= 0.97, `top-1 agreement ${agreement(got, fp32)}`);
    });
  });
}

Deno.test("quantize --method static calibrates on MNIST and writes a QDQ MLP that runs", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const code = await main([
      "quantize",
      MLP,
      "-o",
      `${dir}/s8.onnx`,
      "--method",
      "static",
      "--calibration",
      "mnist",
      "--calibration-method",
      "percentile",
      "--calibration-samples",
      "200",
      "--report",
      `${dir}/r.json`,
    ], io);
    assert.equal(code, 0, io.stderr.text());
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.calibration.method, "percentile");
    assert.equal(report.calibration.samples, 200);
    assert.ok(report.activations.length >= 3, "every Gemm input is calibrated");
    const bytes = await Deno.readFile(`${dir}/s8.onnx`);
    const ops = decodeModel(bytes).graph!.node.map((n) => n.opType);
    assert.ok(ops.includes("QuantizeLinear") && ops.includes("DequantizeLinear"));
    const got = predictions(await runModel(bytes, feeds));
    assert.ok(agreement(got, fp32) >= 0.98, `top-1 agreement ${agreement(got, fp32)}`);
  });
});

for (const flags of [["--method", "dynamic"], ["--method", "linear", "--per-channel"]]) {
  Deno.test(`quantize ${flags.join(" ")} writes an int8 MNIST MLP that runs in onnxruntime-web`, async () => {
    await withTempDir(async (dir) => {
      const io = memoryIo();
      const code = await main(["quantize", MLP, "-o", `${dir}/int8.onnx`, ...flags], io);
      assert.equal(code, 0, io.stderr.text());
      assert.equal(io.stderr.text(), "", "no progress bar when stderr is not a terminal");
      const out = io.stdout.text();
      const method = flags[1]!;
      assert.match(
        out,
        new RegExp(
          `^Recipe +${method}, 8 bits, signed, symmetric, per channel, range minmax$`,
          "m",
        ),
      );
      assert.match(out, /^Kernels +(wasm|js|webgpu)$/m);
      assert.match(out, /^Nodes with weights: 3 quantized, 0 skipped$/m);
      assert.match(out, /^ {2}Gemm +3 +0$/m);
      assert.match(
        out,
        /^Size +919 KiB -> 23\d KiB: 25\.\d% of the original \(3\.9\dx smaller\)$/m,
      );
      assert.match(
        out,
        /^Time +\d+ ms: read \d+ ms, quantize \d+ ms \(numeric \d+ ms\), write \d+ ms$/m,
      );
      assert.match(out, /^Wrote +\S+int8\.onnx$/m);
      assert.ok(out.split("\n").every((line) => line === line.trimEnd()), "no trailing spaces");

      const bytes = await Deno.readFile(`${dir}/int8.onnx`);
      assert.ok(bytes.length <= 0.26 * (await Deno.stat(MLP)).size, `${bytes.length} bytes`);
      const ops = decodeModel(bytes).graph!.node.map((n) => n.opType);
      assert.ok(
        ops.includes(method === "dynamic" ? "MatMulInteger" : "DequantizeLinear"),
        ops.join(),
      );
      const int8 = predictions(await runModel(bytes, feeds));
      assert.ok(agreement(int8, fp32) >= 0.98, `top-1 agreement ${agreement(int8, fp32)}`);
      const drop = agreement(fp32, labels) - agreement(int8, labels);
      assert.ok(drop <= 0.01, `accuracy drop ${drop}`);
    });
  });
}

Deno.test("quantize --report writes the library's JSON report; --json prints it", async () => {
  await withTempDir(async (dir) => {
    const args = ["quantize", MLP, "-o", `${dir}/q.onnx`, "--method", "linear", "--bits", "4"];
    const io = memoryIo();
    assert.equal(await main([...args, "--per-tensor", "--report", `${dir}/r.json`], io), 0);
    assert.match(io.stdout.text(), /^Report +\S+r\.json$/m);
    const report: QuantizationReport = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.deepEqual(report.recipe, { method: "linear", bits: 4, granularity: "tensor" });
    assert.deepEqual(report.nodes.map((n) => [n.name, n.status, n.weights.length]), [
      ["fc1", "quantized", 1],
      ["fc2", "quantized", 1],
      ["fc3", "quantized", 1],
    ]);
    assert.deepEqual(report.tensors.map((t) => [t.bits, t.granularity, t.axis]), [
      [4, "tensor", null],
      [4, "tensor", null],
      [4, "tensor", null],
    ]);
    assert.ok(report.tensors.every((t) => t.sqnrDb !== null && t.sqnrDb > 10), "4-bit SQNR");
    assert.equal(report.size.after, (await Deno.stat(`${dir}/q.onnx`)).size);
    assert.ok(report.size.ratio < 0.15, `4-bit ratio ${report.size.ratio}`);
    assert.ok(["wasm", "js", "webgpu"].includes(report.backend));
    assert.ok(report.timeMs.total >= report.timeMs.numeric);

    const json = memoryIo();
    assert.equal(await main([...args, "--per-tensor", "--json"], json), 0);
    assert.ok(json.stdout.text().endsWith("}\n"));
    const printed: QuantizationReport = JSON.parse(json.stdout.text());
    const strip = (r: QuantizationReport): unknown => ({ ...r, timeMs: undefined });
    assert.deepEqual(strip(printed), strip(report));
  });
});

Deno.test("quantize --recipe: flags replace the file's settings, its overrides stay", async () => {
  await withTempDir(async (dir) => {
    const recipe = {
      method: "linear",
      bits: 8,
      granularity: "block",
      blockSize: 64,
      range: { method: "percentile", percentile: 99.9 },
      overrides: [{ match: { name: "fc3" }, skip: true }],
    };
    await Deno.writeTextFile(`${dir}/recipe.json`, JSON.stringify(recipe));
    const io = memoryIo();
    const args = ["quantize", MLP, "-o", `${dir}/q.onnx`, "--recipe", `${dir}/recipe.json`];
    assert.equal(await main([...args, "--bits", "6", "--per-channel", "--json"], io), 0);
    const report: QuantizationReport = JSON.parse(io.stdout.text());
    // --per-channel drops the file's block size; percentile range and the override stay.
    const { blockSize: _, ...rest } = recipe;
    assert.deepEqual(report.recipe, { ...rest, bits: 6, granularity: "channel" });
    assert.deepEqual(report.nodes.map((n) => [n.name, n.status]), [
      ["fc1", "quantized"],
      ["fc2", "quantized"],
      ["fc3", "skipped"],
    ]);

    const text = memoryIo();
    assert.equal(await main(args, text), 0);
    const out = text.stdout.text();
    assert.match(
      out,
      /^Recipe +linear, 8 bits, .*, blocks of 64, range percentile \(\+ 1 override\)$/m,
    );
    assert.match(out, /^Nodes with weights: 2 quantized, 1 skipped$/m);
    assert.match(out, /^ {2}fc3 +Gemm +skipped +node 'fc3' is skipped by the recipe$/m);

    // A method given by flag fills a file that has none.
    await Deno.writeTextFile(`${dir}/bits.json`, '{"bits": 8}');
    const filled = memoryIo();
    const fill = ["quantize", MLP, "-o", `${dir}/d.onnx`, "--recipe", `${dir}/bits.json`];
    assert.equal(await main([...fill, "--method", "dynamic", "--json"], filled), 0);
    assert.deepEqual(JSON.parse(filled.stdout.text()).recipe, { bits: 8, method: "dynamic" });
  });
});

Deno.test("quantize fails with exit code 1 and the validator's message for a bad recipe file", async () => {
  const cases: [string, RegExp][] = [
    [
      '{"method": "linear", "bits": 12}',
      /^error: Cannot use recipe '\S+r\.json': recipe\.bits must be an integer 2\.\.8 or 16, got 12\n$/,
    ],
    [
      '{"method": "static"}',
      /^error: Cannot use recipe '\S+r\.json': method 'static' needs recipe\.calibration\n$/,
    ],
    [
      '{"method": "linear", "overrides": [{"match": {}}]}',
      /^error: Cannot use recipe '\S+r\.json': overrides\[0\]\.match needs name, pattern or opType\n$/,
    ],
    ['{"bits": 8}', /^error: Cannot use recipe '\S+r\.json': method is required\n$/],
    ['{"method": ', /^error: Cannot read recipe '\S+r\.json': not valid JSON: /],
  ];
  await assertBadRecipeFiles("quantize", MLP, cases);
});

Deno.test("quantize exits 2 on wrong usage and conflicting flags, naming the problem", async () => {
  const out = ["-o", "out.onnx"];
  const cases: [string[], RegExp][] = [
    [[], /Missing IN/],
    [["a.onnx", "--method", "linear"], /Missing -o OUT/],
    [["a.onnx", ...out], /Missing --method/],
    [["a.onnx", "b.onnx", ...out], /Unexpected argument 'b\.onnx'/],
    [
      ["a.onnx", ...out, "--method", "static"],
      /Missing --calibration: static quantization needs a dataset/,
    ],
    [
      ["a.onnx", ...out, "--method", "linear", "--calibration", "mnist"],
      /Option '--calibration' is only used by --method static/,
    ],
    [
      [
        "a.onnx",
        ...out,
        "--method",
        "static",
        "--calibration",
        "mnist",
        "--calibration-method",
        "kl",
      ],
      /unknown method 'kl'; use minmax, percentile, entropy, mse/,
    ],
    [
      ["a.onnx", ...out, "--method", "int4", "--bits", "8"],
      /'--bits' 8 contradicts --method int4/,
    ],
    [
      ["a.onnx", ...out, "--method", "int4", "--per-channel"],
      /--method int4 quantizes in blocks/,
    ],
    [
      ["a.onnx", ...out, "--method", "fast"],
      /unknown method 'fast'; use linear, dynamic, static, log, kmeans, int4/,
    ],
    [
      ["a.onnx", ...out, "--method", "linear", "--per-channel", "--per-tensor"],
      /Options '--per-channel' and '--per-tensor' contradict each other/,
    ],
    [
      ["a.onnx", ...out, "--method", "linear", "--per-channel", "--block-size", "32"],
      /Options '--per-channel' and '--block-size' contradict each other/,
    ],
    [
      ["a.onnx", ...out, "--method", "linear", "--symmetric", "--asymmetric"],
      /Options '--symmetric' and '--asymmetric' contradict each other/,
    ],
    [["a.onnx", ...out, "--method", "linear", "--bits", "four"], /'--bits' needs a whole number/],
    [
      ["a.onnx", ...out, "--method", "linear", "--bits", "9"],
      /These options make no valid recipe: bits must be an integer 2\.\.8 or 16, got 9/,
    ],
    [
      ["a.onnx", ...out, "--method", "dynamic", "--bits", "4"],
      /dynamic quantization needs 8 bits, got 4/,
    ],
    [
      ["a.onnx", ...out, "--method", "dynamic", "--block-size", "32"],
      /dynamic quantization supports tensor or channel granularity, not block/,
    ],
    [
      ["a.onnx", ...out, "--method", "dynamic", "--asymmetric"],
      /dynamic quantization with asymmetric weights needs tensor granularity/,
    ],
    [
      ["a.onnx", ...out, "--method", "linear", "--block-size", "1"],
      /blockSize must be an integer >= 2/,
    ],
    [["a.onnx", ...out, "--method", "linear", "--range", "kl"], /unknown range method 'kl'/],
    [["a.onnx", ...out, "--method", "linear", "--fast"], /Unknown option '--fast'/],
  ];
  await assertUsageErrors("quantize", cases);
});

Deno.test("quantize exits 1 with one clear line for missing or invalid models", async () => {
  await withTempDir(async (dir) => {
    const missing = memoryIo();
    const args = ["-o", `${dir}/q.onnx`, "--method", "dynamic"];
    assert.equal(await main(["quantize", `${dir}/none.onnx`, ...args], missing), 1);
    assert.equal(
      missing.stderr.text(),
      `error: Cannot quantize '${dir}/none.onnx': file not found\n`,
    );

    await Deno.writeFile(`${dir}/bad.onnx`, new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff]));
    const bad = memoryIo();
    assert.equal(await main(["quantize", `${dir}/bad.onnx`, ...args], bad), 1);
    assert.match(
      bad.stderr.text(),
      /^error: Cannot read '\S+bad\.onnx': not a valid ONNX model \(at byte \d+: /,
    );
    assert.equal(bad.stderr.text().split("\n").length, 2, "one line, no stack");
    assert.ok(!(await exists(`${dir}/q.onnx`)), "nothing written");
  });
});

Deno.test("quantize draws read, quantize and write bars on a terminal for big models only", async () => {
  await withTempDir(async (dir) => {
    // A MatMul with a weight just over the progress threshold.
    const [rows, cols] = [2048, Math.ceil(PROGRESS_MIN_BYTES / 4 / 2048) + 16];
    const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i));
    const model = makeModel(
      makeGraph("big", {
        nodes: [makeNode("MatMul", { name: "mm", inputs: ["x", "w"], outputs: ["y"] })],
        inputs: [makeValueInfo("x", TensorProto_DataType.FLOAT, { shape: [1, rows] })],
        outputs: [makeValueInfo("y", TensorProto_DataType.FLOAT, { shape: [1, cols] })],
        initializers: [makeTensor("w", w, { dims: [rows, cols] })],
      }),
      { irVersion: 8, opsetImports: [{ version: 13 }] },
    );
    await Deno.writeFile(`${dir}/big.onnx`, encodeModel(model));
    const args = ["quantize", `${dir}/big.onnx`, "-o", `${dir}/q.onnx`, "--method", "linear"];
    const tty = memoryIo({ isTerminal: true, columns: 100 });
    assert.equal(await main(args, tty), 0, tty.stderr.text());
    const bars = tty.stderr.text();
    assert.match(bars, /\rread \S+big\.onnx \[/);
    // The bar shows before the first (and only) tensor is done; later redraws are throttled.
    assert.ok(/\rquantize \[>? *\] +0% +0 \/ 1$/m.test(bars.replaceAll("\u001b[K", "\n")), bars);
    assert.ok(!tty.stdout.text().includes("\r"), "stdout stays clean");
    assert.ok(bars.endsWith("\r\u001b[K"), "the last bar's line is cleared");
    // The 4-byte weights became 1-byte codes: the write bar is for a file under the threshold.
    assert.ok((await Deno.stat(`${dir}/q.onnx`)).size < PROGRESS_MIN_BYTES / 3);

    const pipe = memoryIo({ isTerminal: false });
    assert.equal(await main(args, pipe), 0);
    assert.equal(pipe.stderr.text(), "");

    const small = memoryIo({ isTerminal: true });
    assert.equal(
      await main(["quantize", MLP, "-o", `${dir}/m.onnx`, "--method", "linear"], small),
      0,
    );
    assert.equal(small.stderr.text(), "");
  });
});

Deno.test("quantize --help prints usage, the methods and the options; main lists it", async () => {
  const io = memoryIo();
  assert.equal(await main(["quantize", "--help"], io), 0);
  assert.match(
    io.stdout.text(),
    /^Usage: modelpress quantize IN -o OUT --method linear\|dynamic\|static/,
  );
  assert.match(io.stdout.text(), /^ {2}int4 +Weight-only 4-bit in blocks/m);
  for (
    const flag of [
      "--bits N",
      "--per-channel",
      "--block-size N",
      "--asymmetric",
      "--range NAME",
      "--recipe FILE.json",
      "--report FILE.json",
      "--json",
    ]
  ) {
    assert.ok(io.stdout.text().includes(flag), flag);
  }
  const top = memoryIo();
  assert.equal(await main(["--help"], top), 0);
  assert.match(top.stdout.text(), /^ {2}quantize +Quantize a model's weights/m);
});
