import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { AttributeProtoSchema, makeTensor } from "@modelpress/onnx";
import { walkTensors } from "./_walk_tensors.ts";
import { richModel } from "./testdata/rich_model.ts";

Deno.test("walkTensors() finds initializers, sparse parts and attribute tensors with their place", () => {
  const model = richModel();
  const gelu = model.functions[0];
  assert.ok(gelu);
  gelu.attributeProto.push(
    create(AttributeProtoSchema, { name: "default_t", t: makeTensor("fd", new Float32Array(1)) }),
  );
  const found = [...walkTensors(model)].map((v) => [
    v.tensor.name,
    v.kind,
    v.entry.kind,
    v.node?.name ?? null,
    v.attribute ?? null,
  ]);
  assert.deepEqual(found, [
    ["w", "initializer", "main", null, null],
    ["b", "initializer", "main", null, null],
    ["big", "initializer", "main", null, null],
    ["sp", "sparse_initializer", "main", null, null],
    ["sp_idx", "sparse_initializer", "main", null, null],
    ["cv", "attribute", "main", "c_main", "value"],
    ["t", "initializer", "subgraph", null, null],
    ["fd", "attribute", "function", null, "default_t"],
  ]);
});
