import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  FunctionProtoSchema,
  type ModelProto,
  SparseTensorProtoSchema,
  type TensorProto,
  TrainingInfoProtoSchema,
} from "./_gen/onnx_pb.ts";
import { makeAttribute, makeGraph, makeModel, makeNode, makeTensor } from "./build.ts";
import { decodeModel, encodeModel } from "./codec.ts";
import { mapModelTensors, modelTensors } from "./model_tensors.ts";
import { tensorData, withTensorData } from "./tensor.ts";

function t(name: string): TensorProto {
  return makeTensor(name, new Float32Array([1]));
}

/** A model with one tensor in every place a tensor can be, named after the place. */
function everywhere(): ModelProto {
  const sparse = (name: string) =>
    create(SparseTensorProtoSchema, {
      values: t(`${name}.values`),
      indices: makeTensor(`${name}.indices`, new BigInt64Array([0n])),
      dims: [4n],
    });
  const thenBranch = makeGraph("then", {
    initializers: [t("then.init")],
    nodes: [makeNode("Constant", { outputs: ["c"], attributes: { value: t("then.constant") } })],
  });
  const loopBody = makeGraph("body", {
    nodes: [
      makeNode("If", {
        attributes: {
          then_branch: makeGraph("deep", {
            nodes: [makeNode("Constant", { attributes: { value: t("deep.constant") } })],
          }),
        },
      }),
    ],
  });
  const graph = makeGraph("main", {
    initializers: [t("main.init")],
    sparseInitializers: [sparse("main.sparse")],
    nodes: [
      makeNode("If", { attributes: { then_branch: thenBranch } }),
      makeNode("Scan", { attributes: { body: [loopBody] } }),
      makeNode("Custom", {
        attributes: {
          tensors: [t("attr.tensors.0"), t("attr.tensors.1")],
          sparse: sparse("attr.sparse"),
        },
      }),
    ],
  });
  const fn = create(FunctionProtoSchema, {
    name: "f",
    node: [makeNode("Constant", { attributes: { value: t("function.constant") } })],
    attributeProto: [makeAttribute("default", t("function.default"))],
  });
  const model = makeModel(graph, { functions: [fn] });
  model.trainingInfo.push(create(TrainingInfoProtoSchema, {
    initialization: makeGraph("init", { initializers: [t("training.init")] }),
    algorithm: makeGraph("algo", { initializers: [t("training.algo")] }),
  }));
  return model;
}

const NAMES = [
  "main.init",
  "main.sparse.values",
  "main.sparse.indices",
  "then.init",
  "then.constant",
  "deep.constant",
  "attr.tensors.0",
  "attr.tensors.1",
  "attr.sparse.values",
  "attr.sparse.indices",
  "function.constant",
  "function.default",
  "training.init",
  "training.algo",
];

Deno.test("modelTensors() finds tensors in every place a model holds them", () => {
  assert.deepEqual(modelTensors(everywhere()).map((x) => x.name), NAMES);
});

Deno.test("mapModelTensors() reports each tensor's site", () => {
  const kinds: Record<string, string> = {};
  mapModelTensors(everywhere(), (x, site) => {
    kinds[x.name] = site.kind;
    return x;
  });
  assert.equal(kinds["main.init"], "initializer");
  assert.equal(kinds["then.init"], "initializer");
  assert.equal(kinds["main.sparse.indices"], "sparse_initializer");
  assert.equal(kinds["then.constant"], "attribute");
  assert.equal(kinds["attr.sparse.values"], "attribute");
  assert.equal(kinds["function.default"], "attribute");
});

Deno.test("mapModelTensors() replaces tensors without changing the given model", () => {
  const model = everywhere();
  const before = encodeModel(model);
  const out = mapModelTensors(
    model,
    (x) => withTensorData(x, x.dataType === 1 ? new Float32Array([2]) : new BigInt64Array([3n])),
  );
  assert.deepEqual(encodeModel(model), before);
  const back = decodeModel(encodeModel(out));
  assert.deepEqual(modelTensors(back).map((x) => x.name), NAMES);
  for (const x of modelTensors(back)) {
    assert.ok([2, 3n].includes(tensorData(x)[0] as number | bigint), x.name);
  }
});

Deno.test("mapModelTensors() shares everything it does not replace", () => {
  const model = everywhere();
  assert.equal(mapModelTensors(model, (x) => x), model);
  const out = mapModelTensors(model, (x) => x.name === "deep.constant" ? t("new") : x);
  assert.notEqual(out, model);
  assert.notEqual(out.graph, model.graph);
  // Untouched branches are the same objects.
  assert.equal(out.graph!.initializer, model.graph!.initializer);
  assert.equal(out.graph!.node[0], model.graph!.node[0]);
  assert.equal(out.functions, model.functions);
  assert.equal(out.trainingInfo, model.trainingInfo);
  assert.deepEqual(
    modelTensors(out).map((x) => x.name),
    NAMES.map((n) => n === "deep.constant" ? "new" : n),
  );
  assert.deepEqual(modelTensors(model).map((x) => x.name), NAMES);
});
