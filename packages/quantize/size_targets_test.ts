import assert from "node:assert/strict";
import { decodeModel, encodeModel } from "@modelpress/onnx";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { quantizeModel } from "./quantize_model.ts";

// Issue 5's size targets on the MNIST MLP: int8 <= 26% of the fp32 file, 4-bit <= 15%, each
// with its accuracy measured in onnxruntime-web on the fixed 2,000-sample test split.
const MLP = new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url);
const mnist = await loadDataset("mnist");

Deno.test("quantizeModel() 4-bit per-channel (MSE range) keeps the MLP under 15% of fp32 within 1 pp", async () => {
  const fp32 = await Deno.readFile(MLP);
  const base = await evaluateModel(fp32, { dataset: mnist, latency: false });
  const { model } = await quantizeModel(decodeModel(fp32), {
    method: "linear",
    bits: 4,
    granularity: "channel",
    range: { method: "mse" },
  });
  const out = encodeModel(model);
  const ratio = out.length / fp32.length;
  const evaluated = await evaluateModel(out, { dataset: mnist, latency: false });
  const drop = base.accuracy!.top1 - evaluated.accuracy!.top1;
  console.log(
    `mnist_mlp 4-bit per-channel mse: ${(100 * ratio).toFixed(1)}% of fp32, ` +
      `top-1 ${evaluated.accuracy!.top1} (fp32 ${base.accuracy!.top1})`,
  );
  assert.ok(ratio <= 0.15, `${(100 * ratio).toFixed(1)}% of fp32`);
  assert.ok(drop <= 0.01, `drop ${(100 * drop).toFixed(2)} pp`);
});
