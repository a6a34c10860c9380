import assert from "node:assert/strict";
import { decodeModel } from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { pruneModel } from "./prune_model.ts";
import { notPrunedNodes } from "./not_pruned.ts";
import type { PruneReport } from "./report.ts";

const kernels = await createKernels({ backend: "js" });
const CNN = await Deno.readFile("test/fixtures/mnist_cnn.onnx");

Deno.test("notPrunedNodes() names a layer N:M cannot group, with the reason", async () => {
  const { report } = await pruneModel(decodeModel(CNN), {
    recipe: { method: "nm", pattern: "2:4" },
    kernels,
  });
  const nodes = notPrunedNodes(report);
  const conv1 = nodes.find((n) => n.node === "conv1");
  assert.ok(conv1, `conv1 (9 weights per filter) is listed: ${JSON.stringify(nodes)}`);
  assert.equal(conv1.opType, "Conv");
  assert.match(conv1.reason, /\S/);
  assert.ok(!nodes.some((n) => n.node === "conv2"), "conv2 was pruned");
});

Deno.test("notPrunedNodes() lists structured groups that lost no unit and unsupported nodes once", () => {
  const report = {
    skipped: [{ node: "a", opType: "Gemm", reason: "excluded" }],
    layers: [
      { node: "b", opType: "Conv", status: "skipped", reason: "grouped" },
      { node: "c", opType: "Conv", status: "pruned" },
    ],
    structured: {
      groups: [
        {
          sources: ["c", "d"],
          members: [{ node: "c", op: "Conv" }, { node: "d", op: "Conv" }],
          removed: 0,
          reason: "coupled through Transpose",
        },
        { sources: ["e"], members: [{ node: "e", op: "Conv" }], removed: 2 },
      ],
      unsupported: [{ node: "t", op: "Transpose", reason: "unclear channel mapping" }, {
        node: "a",
        op: "Gemm",
        reason: "again",
      }],
    },
  } as unknown as PruneReport;
  assert.deepEqual(notPrunedNodes(report), [
    { node: "a", opType: "Gemm", reason: "excluded" },
    { node: "b", opType: "Conv", reason: "grouped" },
    { node: "d", opType: "Conv", reason: "coupled through Transpose" },
    { node: "t", opType: "Transpose", reason: "unclear channel mapping" },
  ]);
});
