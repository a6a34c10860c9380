import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { FunctionProtoSchema, OperatorSetIdProtoSchema } from "./_gen/onnx_pb.ts";
import { readSilero, SILERO_VERSIONS } from "../../test/support/silero.ts";
import { makeGraph, makeModel, makeNode } from "./build.ts";
import {
  checkOpsetRange,
  isDefaultDomain,
  LATEST_KNOWN_OPSET,
  nodeOpsetVersion,
  normalizeDomain,
  opSchemaVersion,
  opsetVersion,
} from "./opset.ts";

Deno.test("opsetVersion() treats '' and 'ai.onnx' as one domain", () => {
  const model = makeModel(makeGraph("g"), {
    opsetImports: [{ domain: "ai.onnx", version: 13 }, { domain: "com.microsoft", version: 1 }],
  });
  equal(opsetVersion(model, ""), 13);
  equal(opsetVersion(model, "ai.onnx"), 13);
  equal(opsetVersion(model, "com.microsoft"), 1);
  equal(opsetVersion(model, "ai.onnx.ml"), undefined);
  ok(isDefaultDomain("") && isDefaultDomain("ai.onnx") && !isDefaultDomain("ai.onnx.ml"));
  equal(normalizeDomain("ai.onnx"), "");
  equal(normalizeDomain("com.microsoft"), "com.microsoft");
  model.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: "", version: 14n }));
  throws(() => opsetVersion(model, ""), /imported as both 13 and 14/);
});

Deno.test("nodeOpsetVersion() reads the model's or the function's imports", () => {
  const fn = create(FunctionProtoSchema, {
    name: "F",
    domain: "local",
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 18n })],
  });
  const model = makeModel(makeGraph("g"), {
    opsetImports: [{ version: 13 }, { domain: "local", version: 1 }],
    functions: [fn],
  });
  equal(nodeOpsetVersion(model, makeNode("Relu")), 13);
  equal(nodeOpsetVersion(model, makeNode("F", { domain: "local" })), 1);
  equal(nodeOpsetVersion(fn, makeNode("Relu", { domain: "ai.onnx" })), 18);
});

Deno.test("opSchemaVersion() finds the schema in effect at an opset", () => {
  equal(opSchemaVersion("Squeeze", 12), 11);
  equal(opSchemaVersion("Squeeze", 13), 13);
  equal(opSchemaVersion("Softmax", 12), 11);
  equal(opSchemaVersion("ReduceMean", 17), 13);
  equal(opSchemaVersion("ReduceMean", 18), 18);
  equal(opSchemaVersion("Gelu", 19), undefined);
  equal(opSchemaVersion("Gelu", 20), 20);
  equal(opSchemaVersion("Upsample", 9), 9);
  equal(opSchemaVersion("Upsample", 10), undefined, "deprecated");
  equal(opSchemaVersion("Scatter", 11), undefined, "deprecated");
  equal(opSchemaVersion("NotAnOp", 13), undefined);
  equal(opSchemaVersion("toString", 13), undefined, "no prototype leaks");
  throws(() => opSchemaVersion("Relu", LATEST_KNOWN_OPSET + 1), /describes opsets up to 23/);
});

Deno.test("checkOpsetRange() reports per node whether its operator exists over the range", () => {
  const fn = create(FunctionProtoSchema, {
    name: "Mine",
    domain: "local",
    node: [makeNode("Upsample")],
  });
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Relu", { name: "relu" }),
      makeNode("Upsample", { name: "up" }),
      makeNode("Gelu", { name: "gelu" }),
      makeNode("Squeeze", { name: "sq" }),
      makeNode("FusedConv", { name: "fused", domain: "com.microsoft" }),
      makeNode("Mine", { name: "call", domain: "local" }),
      makeNode("Frobnicate", { name: "frob" }),
      makeNode("LayerNormalization", { name: "ln" }),
    ],
  });
  const checks = checkOpsetRange(makeModel(graph, { functions: [fn] }), { min: 9, max: 18 });
  const byName = new Map(checks.map((c) => [c.node.name, c]));
  deepStrictEqual(
    [...byName.entries()].filter(([n]) => n !== "").map(([n, c]) => [n, c.availability]),
    [
      ["relu", "available"],
      ["up", "partial"],
      ["gelu", "missing"],
      ["sq", "available"],
      ["fused", "unknown"],
      ["call", "available"],
      ["frob", "missing"],
      ["ln", "partial"],
    ],
  );
  const up = byName.get("up")!;
  deepStrictEqual([up.availableFrom, up.availableTo, up.reason], [
    9,
    9,
    "'Upsample' is deprecated since opset 10",
  ]);
  deepStrictEqual(byName.get("relu")!.schemaVersions, [6, 13, 14]);
  deepStrictEqual(byName.get("sq")!.schemaVersions, [1, 11, 13]);
  deepStrictEqual([byName.get("ln")!.availableFrom, byName.get("ln")!.reason], [
    17,
    "'LayerNormalization' was introduced in opset 17",
  ]);
  equal(byName.get("gelu")!.reason, "'Gelu' was introduced in opset 20");
  // The function body is checked too, with its path.
  const inFunction = checks.find((c) => c.path === "function/local:Mine");
  equal(inFunction?.availability, "partial");
  throws(() => checkOpsetRange(makeModel(graph), { min: 14, max: 13 }), RangeError);
  throws(
    () => checkOpsetRange(makeModel(graph), { min: 13, max: 30 }),
    /describes opsets up to 23/,
  );
});

Deno.test("checkOpsetRange() finds every silero operator available from opset 16 to 23", async () => {
  for (const version of SILERO_VERSIONS) {
    const checks = checkOpsetRange(await readSilero(version), { min: 16, max: 23 });
    deepStrictEqual(
      checks.filter((c) => c.availability !== "available").map((c) => c.opType),
      [],
      version,
    );
    // ReduceMean's axes moved to an input at 18: two schemas in the range.
    const reduce = checks.find((c) => c.opType === "ReduceMean");
    deepStrictEqual(reduce?.schemaVersions, [13, 18]);
  }
});
