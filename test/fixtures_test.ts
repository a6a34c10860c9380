import assert from "node:assert/strict";
import { decodeModel, encodeModel, type ModelProto, tensorData } from "@modelpress/onnx";
import {
  createSession,
  loadMnist,
  MNIST_CLASSES,
  MNIST_PIXELS,
  type MnistData,
  runSession,
  type Session,
  Tensor,
  type TensorMap,
} from "@modelpress/evaluate";
import { type ModelOutput, type ModelOutputs, runModel } from "./support/run_model.ts";
import { SILERO_VERSIONS, sileroFeeds, sileroPath, type SileroVersion } from "./support/silero.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** What make_fixtures.ts recorded for one MNIST model (the fields this test reads). */
interface RecordedModel {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly opset: number;
  readonly irVersion: number;
  readonly input: { readonly name: string; readonly shape: readonly (string | number)[] };
  readonly output: { readonly name: string; readonly shape: readonly (string | number)[] };
  readonly testCount: number;
  readonly testCorrect: number;
  readonly testAccuracy: number;
}

const recorded = JSON.parse(await Deno.readTextFile(new URL("fixtures.json", FIXTURES))) as {
  models: Record<string, RecordedModel>;
};

/** Operators of each MNIST model, in graph order. */
const MNIST_OPS: Record<string, readonly string[]> = {
  mnist_mlp: ["Gemm", "Relu", "Gemm", "Relu", "Gemm"],
  mnist_cnn: [
    "Conv",
    "BatchNormalization",
    "Relu",
    "Conv",
    "BatchNormalization",
    "Relu",
    "MaxPool",
    "Flatten",
    "Gemm",
  ],
};

let testSplit: Promise<MnistData> | undefined;
function mnistTest(): Promise<MnistData> {
  testSplit ??= loadMnist({ split: "test" });
  return testSplit;
}

function record(name: string): RecordedModel {
  const model = recorded.models[name];
  assert.ok(model, `fixtures.json has no entry for ${name}`);
  return model;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The MNIST input tensor for samples [start, start + count) of a split. */
function mnistInput(model: RecordedModel, data: MnistData, start: number, count: number): Tensor {
  const dims = model.input.shape.map((d) => (d === "N" ? count : Number(d)));
  const pixels = data.images.slice(start * MNIST_PIXELS, (start + count) * MNIST_PIXELS);
  return new Tensor("float32", pixels, dims);
}

function countCorrect(logits: Float32Array, labels: Uint8Array): number {
  let correct = 0;
  labels.forEach((label, i) => {
    let best = 0;
    for (let c = 1; c < MNIST_CLASSES; c++) {
      if ((logits[i * MNIST_CLASSES + c] ?? 0) > (logits[i * MNIST_CLASSES + best] ?? 0)) best = c;
    }
    if (best === label) correct++;
  });
  return correct;
}

async function withSession<T>(
  bytes: Uint8Array,
  use: (s: Session) => T | Promise<T>,
): Promise<T> {
  const session = await createSession(bytes);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

/**
 * Runs a silero model on three chunks of audio in one session, feeding each chunk's state to the
 * next, and returns every output of every chunk.
 */
async function runSilero(bytes: Uint8Array, version: SileroVersion): Promise<TensorMap[]> {
  return await withSession(bytes, async (session) => {
    const results: TensorMap[] = [];
    let state: TensorMap = {};
    for (let chunk = 0; chunk < 3; chunk++) {
      const outputs = await runSession(session, { ...sileroFeeds(version, { chunk }), ...state });
      results.push(outputs);
      state = version === "legacy"
        ? { h: outputs.hn as Tensor, c: outputs.cn as Tensor }
        : { state: outputs.stateN as Tensor };
    }
    return results;
  });
}

function assertBitwiseEqual(actual: ModelOutputs, expected: ModelOutputs, label: string): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), label);
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name]!;
    assert.equal(a.type, e.type, `${label} ${name} type`);
    assert.deepEqual(a.dims, e.dims, `${label} ${name} dims`);
    const bytes = (t: ModelOutput): Uint8Array => {
      const data = t.data as Float32Array;
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    };
    assert.ok(bytes(e).length > 0, `${label} ${name} is empty`);
    assert.deepEqual(bytes(a), bytes(e), `${label} ${name} bits`);
  }
}

function checkMnistGraph(model: ModelProto, name: string, rec: RecordedModel): void {
  const graph = model.graph;
  assert.ok(graph, `${name} has a graph`);
  assert.ok(model.irVersion >= 8n, `${name} IR version ${model.irVersion}`);
  assert.equal(model.irVersion, BigInt(rec.irVersion));
  const opset = model.opsetImport.find((o) => o.domain === "")?.version;
  assert.equal(opset, BigInt(rec.opset));
  assert.ok((opset ?? 0n) >= 13n);
  assert.deepEqual(graph.node.map((n) => n.opType), MNIST_OPS[name]);
  assert.deepEqual(graph.input.map((i) => i.name), [rec.input.name]);
  assert.deepEqual(graph.output.map((o) => o.name), [rec.output.name]);
  const type = graph.input[0]?.type?.value;
  assert.equal(type?.case, "tensorType");
  const dims = type?.value.shape?.dim.map((d) => d.value.value) ?? [];
  assert.deepEqual(dims, rec.input.shape.map((d) => (typeof d === "string" ? d : BigInt(d))));
  // BatchNormalization nodes carry trained statistics, not their initial mean 0 / variance 1.
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  for (const node of graph.node.filter((n) => n.opType === "BatchNormalization")) {
    const [scale, bias, mean, variance] = node.input.slice(1).map((input) => {
      const tensor = initializers.get(input);
      assert.ok(tensor, `${name}: ${node.name} input ${input} is an initializer`);
      return Array.from(tensorData(tensor) as Float32Array);
    });
    const channels = scale?.length ?? 0;
    assert.ok(channels > 0);
    for (const values of [bias, mean, variance]) assert.equal(values?.length, channels);
    assert.ok(mean?.some((v) => Math.abs(v) > 1e-3), `${node.name} running mean`);
    assert.ok(variance?.every((v) => v > 0), `${node.name} running variance`);
    assert.ok(variance?.some((v) => Math.abs(v - 1) > 1e-3), `${node.name} running variance`);
    assert.ok(scale?.some((v) => Math.abs(v - 1) > 1e-3), `${node.name} scale`);
  }
}

for (const name of Object.keys(MNIST_OPS)) {
  const rec = record(name);
  const url = new URL(rec.file, FIXTURES);

  Deno.test(`${rec.file} matches the hash, size and graph recorded in fixtures.json`, async () => {
    const bytes = await Deno.readFile(url);
    assert.equal(bytes.length, rec.bytes);
    assert.equal(await sha256(bytes), rec.sha256);
    checkMnistGraph(decodeModel(bytes), name, rec);
  });

  Deno.test(`${rec.file} reaches exactly its recorded test accuracy in onnxruntime-web`, async () => {
    const test = await mnistTest();
    assert.equal(test.count, rec.testCount);
    const bytes = await Deno.readFile(url);
    await withSession(bytes, async (session) => {
      const outputs = await runSession(session, {
        [rec.input.name]: mnistInput(rec, test, 0, test.count),
      });
      const logits = outputs[rec.output.name] as Tensor;
      assert.deepEqual(logits.dims, [test.count, MNIST_CLASSES]);
      const correct = countCorrect(logits.data as Float32Array, test.labels);
      assert.equal(correct, rec.testCorrect);
      assert.equal(correct / test.count, rec.testAccuracy);
      // The batch dimension is dynamic: a batch of 3 gives the same logits (to rounding).
      const small = await runSession(session, { [rec.input.name]: mnistInput(rec, test, 5, 3) });
      const part = (small[rec.output.name] as Tensor).data as Float32Array;
      assert.equal(part.length, 3 * MNIST_CLASSES);
      part.forEach((v, i) => {
        const full = (logits.data as Float32Array)[5 * MNIST_CLASSES + i] as number;
        assert.ok(Math.abs(v - full) <= 1e-5 * Math.max(1, Math.abs(full)), `logit ${i}`);
      });
    });
  });

  Deno.test(`${rec.file} runs bitwise the same after decodeModel() -> encodeModel()`, async () => {
    const test = await mnistTest();
    const bytes = await Deno.readFile(url);
    const copy = encodeModel(decodeModel(bytes));
    const feeds = { [rec.input.name]: mnistInput(rec, test, 0, 256) };
    const expected = await runModel(bytes, feeds);
    const actual = await runModel(copy, feeds);
    assertBitwiseEqual(actual, expected, rec.file);
  });
}

for (const version of SILERO_VERSIONS) {
  const file = `silero_vad_${version}.onnx`;
  const path = sileroPath(version);

  Deno.test(`${file} loads and runs in onnxruntime-web on 16 kHz audio chunks`, async () => {
    const bytes = await Deno.readFile(path);
    await withSession(bytes, (session) => {
      // Check the input names and types that runSilero() feeds.
      const inputs = Object.fromEntries(
        session.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : "non-tensor"]),
      );
      const expected = version === "legacy"
        ? { input: "float32", sr: "int64", h: "float32", c: "float32" }
        : { input: "float32", state: "float32", sr: "int64" };
      assert.deepEqual(inputs, expected);
    });
    const results = await runSilero(bytes, version);
    for (const outputs of results) {
      const output = outputs.output as Tensor;
      assert.deepEqual(output.dims, [1, 1]);
      const p = (output.data as Float32Array)[0] as number;
      assert.ok(p >= 0 && p <= 1, `speech probability ${p}`);
    }
    // The recurrent state changes from chunk to chunk.
    const stateName = version === "legacy" ? "hn" : "stateN";
    const first = (results[0]?.[stateName] as Tensor).data as Float32Array;
    const last = (results[2]?.[stateName] as Tensor).data as Float32Array;
    assert.notDeepEqual(first, last);
  });

  Deno.test(`${file} runs bitwise the same after decodeModel() -> encodeModel()`, async () => {
    const bytes = await Deno.readFile(path);
    const copy = encodeModel(decodeModel(bytes));
    const expected = await runSilero(bytes, version);
    const actual = await runSilero(copy, version);
    expected.forEach((e, chunk) =>
      assertBitwiseEqual(actual[chunk] as TensorMap, e, `${file} chunk ${chunk}`)
    );
  });
}
