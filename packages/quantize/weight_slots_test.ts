import assert from "node:assert/strict";
import { attrInt, makeNode } from "@modelpress/onnx";
import { weightSlots } from "./weight_slots.ts";

Deno.test("weightSlots() follows each operator's weight layout", () => {
  const gemm = (transB: number) =>
    weightSlots(makeNode("Gemm", { inputs: ["x", "w"], attributes: { transB: attrInt(transB) } }));
  assert.deepEqual(gemm(1), [{ slot: 1, channelAxis: 0, blockAxis: 1 }]);
  assert.deepEqual(gemm(0), [{ slot: 1, channelAxis: 1, blockAxis: 0 }]);
  assert.deepEqual(weightSlots(makeNode("MatMul")), [{ slot: 1, channelAxis: -1, blockAxis: -2 }]);
  assert.deepEqual(weightSlots(makeNode("Conv")), [{ slot: 1, channelAxis: 0, blockAxis: 1 }]);
  assert.deepEqual(weightSlots(makeNode("LSTM")).map((s) => s.slot), [1, 2]);
  assert.deepEqual(weightSlots(makeNode("Relu")), []);
  assert.deepEqual(weightSlots(makeNode("MatMul", { domain: "com.microsoft" })), []);
});
