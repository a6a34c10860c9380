/**
 * Test helpers for this package: models built in code, so that every count the tests assert can
 * be checked by reading this file. Helpers shared with other packages (running models, silero
 * VAD, temporary folders) are in `test/support/` at the repository root.
 * @module
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  attrFloat,
  attrInts,
  FunctionProtoSchema,
  type GraphProto,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  SparseTensorProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from "@modelpress/onnx";
import { Tensor, type TensorMap } from "@modelpress/evaluate";
import { withTempDir } from "../../test/support/temp_dir.ts";
import { memoryIo } from "./cli_io.ts";
import { main } from "./main.ts";

const T = TensorProto_DataType;

/**
 * A small model with a bit of everything `inspect` reports. What it holds:
 * - opsets: "" 17 and com.example 1; IR 9; producer "tests" "1.0"; metadata author, note
 * - inputs: x float [batch, 4]; `w` is also an input but has an initializer (left out)
 * - outputs: y float [batch, 4]; s seq(tensor(int64)) (no shape)
 * - main graph nodes (5): MatMul, Add, Constant(value: int8 [2,3]), Gelu (com.example), If
 * - main initializers: w float [4,4] raw (64 B), b float [4] in float_data (16 B),
 *   big float [32,32] raw (4096 B)
 * - sparse initializer: values float [3] (12 B), indices int64 [3] (24 B), dense dims [10]
 * - If.then_branch (depth 1, 2 nodes): Constant(value_float), Loop with body (depth 2, 1 node:
 *   Constant value_ints [1,2,3]); initializer t float [2] raw (8 B)
 * - If.else_branch (depth 1, 1 node): Identity
 * - function com.example.Gelu: 2 nodes (Mul, Tanh)
 *
 * @returns A new model.
 * @example
 * ```ts
 * import { encodeModel } from "@modelpress/onnx";
 * import { richModel } from "./_testing.ts";
 * await Deno.writeFile("rich.onnx", encodeModel(richModel()));
 * ```
 */
export function richModel(): ModelProto {
  const loopBody = makeGraph("loop_body", {
    nodes: [
      makeNode("Constant", { outputs: ["k"], attributes: { value_ints: attrInts([1, 2, 3]) } }),
    ],
  });
  const thenBranch = makeGraph("then", {
    nodes: [
      makeNode("Constant", {
        name: "c_then",
        outputs: ["f"],
        attributes: { value_float: attrFloat(0.5) },
      }),
      makeNode("Loop", {
        name: "loop",
        inputs: ["", ""],
        outputs: ["l"],
        attributes: { body: loopBody },
      }),
    ],
    initializers: [makeTensor("t", new Float32Array([1, 2]))],
  });
  const elseBranch: GraphProto = makeGraph("else", {
    nodes: [makeNode("Identity", { inputs: ["x"], outputs: ["e"] })],
  });
  const typed = create(TensorProtoSchema, {
    name: "b",
    dataType: T.FLOAT,
    dims: [4n],
    floatData: [1, 2, 3, 4],
  });
  const sparse = create(SparseTensorProtoSchema, {
    values: makeTensor("sp", new Float32Array([1, 2, 3])),
    indices: makeTensor("sp_idx", new BigInt64Array([0n, 4n, 9n])),
    dims: [10n],
  });
  const seqOutput = create(ValueInfoProtoSchema, {
    name: "s",
    type: create(TypeProtoSchema, {
      value: {
        case: "sequenceType",
        value: {
          elemType: create(TypeProtoSchema, {
            value: { case: "tensorType", value: { elemType: T.INT64 } },
          }),
        },
      },
    }),
  });
  const graph = makeGraph("rich", {
    nodes: [
      makeNode("MatMul", { name: "mm", inputs: ["x", "w"], outputs: ["h"] }),
      makeNode("Add", { name: "add", inputs: ["h", "b"], outputs: ["a"] }),
      makeNode("Constant", {
        name: "c_main",
        outputs: ["c"],
        attributes: { value: makeTensor("cv", new Int8Array(6), { dims: [2, 3] }) },
      }),
      makeNode("Gelu", { name: "gelu", domain: "com.example", inputs: ["a"], outputs: ["g"] }),
      makeNode("If", {
        name: "if",
        inputs: ["cond"],
        outputs: ["y"],
        attributes: { then_branch: thenBranch, else_branch: elseBranch },
      }),
    ],
    inputs: [
      makeValueInfo("x", T.FLOAT, { shape: ["batch", 4] }),
      makeValueInfo("w", T.FLOAT, { shape: [4, 4] }),
    ],
    outputs: [makeValueInfo("y", T.FLOAT, { shape: ["batch", 4] }), seqOutput],
    initializers: [
      makeTensor("w", new Float32Array(16), { dims: [4, 4] }),
      typed,
      makeTensor("big", Float32Array.from({ length: 1024 }, (_, i) => i), { dims: [32, 32] }),
    ],
    sparseInitializers: [sparse],
  });
  return makeModel(graph, {
    irVersion: 9,
    opsetImports: [{ domain: "", version: 17 }, { domain: "com.example", version: 1 }],
    producerName: "tests",
    producerVersion: "1.0",
    functions: [
      create(FunctionProtoSchema, {
        name: "Gelu",
        domain: "com.example",
        input: ["x"],
        output: ["y"],
        node: [
          makeNode("Mul", { inputs: ["x", "x"], outputs: ["m"] }),
          makeNode("Tanh", { inputs: ["m"], outputs: ["y"] }),
        ],
      }),
    ],
    metadata: { author: "tests", note: "two\nlines" },
  });
}

/**
 * A model that runs in onnxruntime-web: y = x + c, with c a main-graph Constant of 256 floats
 * (1 KiB) and z = x * w with w a main-graph initializer of 256 floats.
 *
 * @returns A new model (IR 8, opset 16).
 * @example
 * ```ts
 * import { runModel } from "../../test/support/run_model.ts";
 * import { runnableFeeds, runnableModel } from "./_testing.ts";
 * const { y } = await runModel(runnableModel(), runnableFeeds());
 * ```
 */
export function runnableModel(): ModelProto {
  const F = T.FLOAT;
  const ramp = Float32Array.from({ length: 256 }, (_, i) => i / 8);
  return makeModel(
    makeGraph("runnable", {
      nodes: [
        makeNode("Constant", { outputs: ["c"], attributes: { value: makeTensor("cv", ramp) } }),
        makeNode("Add", { inputs: ["x", "c"], outputs: ["y"] }),
        makeNode("Mul", { inputs: ["x", "w"], outputs: ["z"] }),
      ],
      inputs: [makeValueInfo("x", F, { shape: [256] })],
      outputs: [makeValueInfo("y", F, { shape: [256] }), makeValueInfo("z", F, { shape: [256] })],
      initializers: [makeTensor("w", ramp.map((v) => -v))],
    }),
    { irVersion: 8, opsetImports: [{ version: 16 }] },
  );
}

/**
 * Input for {@linkcode runnableModel}: x = 1, 2, ..., 256.
 *
 * @returns The feeds.
 * @example
 * ```ts
 * import { runnableFeeds } from "./_testing.ts";
 * const { x } = runnableFeeds();
 * ```
 */
export function runnableFeeds(): TensorMap {
  return {
    x: new Tensor("float32", Float32Array.from({ length: 256 }, (_, i) => i + 1), [256]),
  };
}

/**
 * Whether a file or folder exists.
 *
 * @param path The path.
 * @returns Whether `Deno.stat` finds it.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that a command reading `--recipe FILE` fails with exit code 1 and the given message on
 * stderr for each bad file text, writing nothing, and names a recipe file that is missing.
 *
 * @param command The command (`prune`, `quantize`).
 * @param model The input model's path.
 * @param cases The file texts and the message each must give.
 */
export async function assertBadRecipeFiles(
  command: string,
  model: string,
  cases: readonly (readonly [string, RegExp])[],
): Promise<void> {
  await withTempDir(async (dir) => {
    for (const [text, message] of cases) {
      await Deno.writeTextFile(`${dir}/r.json`, text);
      const io = memoryIo();
      const args = [command, model, "-o", `${dir}/out.onnx`, "--recipe", `${dir}/r.json`];
      assert.equal(await main(args, io), 1, text);
      assert.match(io.stderr.text(), message);
      assert.ok(!(await exists(`${dir}/out.onnx`)), "nothing written");
    }
    const missing = memoryIo();
    const args = [command, model, "-o", `${dir}/out.onnx`, "--recipe", `${dir}/none.json`];
    assert.equal(await main(args, missing), 1);
    assert.equal(
      missing.stderr.text(),
      `error: Cannot read recipe '${dir}/none.json': file not found\n`,
    );
  });
}

/**
 * Checks that each command line is a usage error: exit code 2, the message on stderr, and the
 * command's usage line after it.
 *
 * @param command The command (`prune`, `quantize`).
 * @param cases The arguments after the command's name, and the message each must give.
 */
export async function assertUsageErrors(
  command: string,
  cases: readonly (readonly [readonly string[], RegExp])[],
): Promise<void> {
  for (const [args, message] of cases) {
    const io = memoryIo();
    assert.equal(await main([command, ...args], io), 2, args.join(" "));
    assert.match(io.stderr.text(), message, args.join(" "));
    assert.match(io.stderr.text(), new RegExp(`Usage: modelpress ${command} IN -o OUT`));
  }
}
