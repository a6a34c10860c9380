import assert from "node:assert/strict";
import { reportFromJson, reportToJson } from "./report_json.ts";
import type { EvaluationReport } from "./evaluate_model.ts";

Deno.test("reportToJson() keeps Infinity that JSON.stringify would turn into null", () => {
  const report = {
    fidelity: { y: { sqnrDb: Infinity, mse: 0 } },
    low: -Infinity,
  } as unknown as EvaluationReport;
  const text = reportToJson(report);
  assert.equal(text, '{"fidelity":{"y":{"sqnrDb":"Infinity","mse":0}},"low":"-Infinity"}');
  assert.deepEqual(reportFromJson(text), report);
  assert.equal(reportToJson(report, { space: 2 }).split("\n").length, 9);
});
