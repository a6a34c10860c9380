/**
 * Helpers for the structured pruning tests: small model builders, slicing by hand (independent
 * of the library's), and running models in onnxruntime-web.
 * @module
 */
import assert from "node:assert/strict";
import {
  attrInt,
  attrInts,
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
import { randomInput, runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";

/**
 * A float tensor named `name` with seeded values in [-scale, scale).
 *
 * @example
 * ```ts
 * import { weight } from "./_structural_testing.ts";
 * const w = weight("w", [4, 2, 3, 3], 1);
 * ```
 */
export function weight(
  name: string,
  dims: readonly number[],
  seed: number,
  scale = 0.5,
): TensorProto {
  return makeTensor(name, seededFloats(dims.reduce((p, d) => p * d, 1), seed, { scale }), {
    dims,
  });
}

/**
 * A float tensor from data.
 *
 * @example
 * ```ts
 * import { tensor } from "./_structural_testing.ts";
 * const b = tensor("b", [1, 2], [2]);
 * ```
 */
export function tensor(
  name: string,
  data: ArrayLike<number>,
  dims: readonly number[],
): TensorProto {
  return makeTensor(name, Float32Array.from(data), { dims });
}

/**
 * A Conv node (square kernel, `pad` on every side).
 *
 * @example
 * ```ts
 * import { conv } from "./_structural_testing.ts";
 * const node = conv("A", ["x", "w"], "a", { kernel: 3, pad: 1 });
 * ```
 */
export function conv(
  name: string,
  inputs: readonly string[],
  output: string,
  options: { kernel: number; pad?: number; group?: number },
): NodeProto {
  const pad = options.pad ?? 0;
  return makeNode("Conv", {
    name,
    inputs,
    outputs: [output],
    attributes: {
      kernel_shape: attrInts([options.kernel, options.kernel]),
      pads: attrInts([pad, pad, pad, pad]),
      group: attrInt(options.group ?? 1),
    },
  });
}

/**
 * A float model with input `x` and output `y`.
 *
 * @example
 * ```ts
 * import { makeNode } from "@modelpress/onnx";
 * import { model } from "./_structural_testing.ts";
 * const m = model([makeNode("Relu", { inputs: ["x"], outputs: ["y"] })], [], { input: [2], output: [2] });
 * ```
 */
export function model(
  nodes: readonly NodeProto[],
  initializers: readonly TensorProto[],
  io: { input: readonly (number | string)[]; output: readonly (number | string)[] },
): ModelProto {
  const { FLOAT } = TensorProto_DataType;
  return makeModel(makeGraph("g", {
    nodes,
    initializers,
    inputs: [makeValueInfo("x", FLOAT, { shape: io.input })],
    outputs: [makeValueInfo("y", FLOAT, { shape: io.output })],
  }));
}

/**
 * The data of an initializer of a model, as float32.
 *
 * @example
 * ```ts
 * import { initializerData, model, tensor } from "./_structural_testing.ts";
 * initializerData(model([], [tensor("b", [1], [1])], { input: [1], output: [1] }), "b"); // [1]
 * ```
 */
export function initializerData(m: ModelProto, name: string): Float32Array {
  const t = m.graph!.initializer.find((i) => i.name === name);
  assert.ok(t, `initializer '${name}' exists`);
  const raw = t.rawData;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/**
 * Slices row-major data along an axis, keeping the given positions (a reference).
 *
 * @example
 * ```ts
 * import { sliceAxis } from "./_structural_testing.ts";
 * sliceAxis([1, 2, 3, 4], [2, 2], 1, [1]); // [2, 4]
 * ```
 */
export function sliceAxis(
  data: ArrayLike<number>,
  dims: readonly number[],
  axis: number,
  keep: readonly number[],
): Float32Array {
  const outDims = dims.slice();
  outDims[axis] = keep.length;
  const out = new Float32Array(outDims.reduce((p, d) => p * d, 1));
  const inner = dims.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = dims.slice(0, axis).reduce((p, d) => p * d, 1);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of keep) {
      for (let i = 0; i < inner; i++) out[k++] = data[(o * dims[axis]! + p) * inner + i]!;
    }
  }
  return out;
}

/**
 * The positions 0..n-1 not in `removed`.
 *
 * @example
 * ```ts
 * import { keptOf } from "./_structural_testing.ts";
 * keptOf(4, [1]); // [0, 2, 3]
 * ```
 */
export function keptOf(n: number, removed: readonly number[]): number[] {
  return [...Array(n).keys()].filter((i) => !removed.includes(i));
}

/**
 * Runs both models on the same seeded input `x` and asserts their outputs `y` agree.
 *
 * @example
 * ```ts
 * import { makeNode } from "@modelpress/onnx";
 * import { assertSameOutputs, model } from "./_structural_testing.ts";
 * const m = model([makeNode("Relu", { inputs: ["x"], outputs: ["y"] })], [], { input: [2], output: [2] });
 * await assertSameOutputs(m, m, [2]);
 * ```
 */
export async function assertSameOutputs(
  a: ModelProto,
  b: ModelProto,
  inputDims: readonly number[],
  tolerance = 1e-5,
): Promise<void> {
  const x = randomInput(inputDims, 7);
  const ya = (await runModel(a, { x })).y!;
  const yb = (await runModel(b, { x })).y!;
  assert.deepEqual(ya.dims, yb.dims);
  const da = ya.data as Float32Array;
  const db = yb.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < da.length; i++) worst = Math.max(worst, Math.abs(da[i]! - db[i]!));
  assert.ok(worst <= tolerance, `outputs differ by up to ${worst} (tolerance ${tolerance})`);
}

/**
 * The number of parameters (initializer elements) of a model.
 *
 * @example
 * ```ts
 * import { model, parameterCount, tensor } from "./_structural_testing.ts";
 * parameterCount(model([], [tensor("b", [1, 2], [2])], { input: [1], output: [1] })); // 2
 * ```
 */
export function parameterCount(m: ModelProto): number {
  return m.graph!.initializer.reduce((n, t) => n + t.dims.reduce((p, d) => p * Number(d), 1), 0);
}
