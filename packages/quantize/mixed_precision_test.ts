import assert from "node:assert/strict";
import { decodeModel, encodeModel } from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { assignPrecision, type PrecisionAssignment } from "./mixed_precision.ts";
import { quantizeModel } from "./quantize_model.ts";
import type { QuantizeRecipe } from "./recipe.ts";

const kernels = await createKernels({ backend: "js" });
const train = await loadDataset("mnist", { split: "train" });
const test = await loadDataset("mnist", { split: "test" });
/** One format and granularity for the uniform and the mixed models: MatMulNBits, block 32. */
const BASE: QuantizeRecipe = { method: "linear", granularity: "block", blockSize: 32 };
const CANDIDATES = [2, 3, 4, 8];
/** Bits 2, 4 and 8 (MatMulNBits' widths) at blocks 32, 64 and 128: scales traded for bits. */
const BLOCK_CANDIDATES = [2, 4, 8].flatMap((bits) =>
  [32, 64, 128].map((blockSize) => ({ bits, blockSize }))
);

const FIXTURES = ["mnist_mlp", "mnist_cnn"] as const;
const floats = Object.fromEntries(
  await Promise.all(
    FIXTURES.map(async (f) => [f, await Deno.readFile(`test/fixtures/${f}.onnx`)] as const),
  ),
);

/** Size, test-split accuracy (2,000 samples) and SQNR against fp32 on the test split. */
async function testSplit(float: Uint8Array, quantized: Uint8Array) {
  const r = await evaluateModel(quantized, { dataset: test, reference: float, latency: false });
  return {
    bytes: quantized.length,
    accuracy: r.accuracy!.top1,
    sqnrDb: Object.values(r.fidelity!)[0]!.sqnrDb,
  };
}

async function uniform(float: Uint8Array, bits: number) {
  const { model } = await quantizeModel(decodeModel(float), { ...BASE, bits }, { kernels });
  return await testSplit(float, encodeModel(model));
}

for (const fixture of FIXTURES) {
  const float = floats[fixture]!;

  Deno.test(`assignPrecision() on ${fixture} with block sizes beats uniform 4-bit at its size, and by more with 3% more bytes`, async () => {
    const u4 = await uniform(float, 4);
    const atSize = await assignPrecision(decodeModel(float), train, {
      candidates: BLOCK_CANDIDATES,
      target: { bytes: u4.bytes },
      recipe: BASE,
      kernels,
    });
    const roomier = await assignPrecision(decodeModel(float), train, {
      candidates: CANDIDATES,
      target: { bytes: Math.floor(u4.bytes * 1.03) },
      recipe: BASE,
      kernels,
    });
    const same = await testSplit(float, encodeModel(atSize.model));
    const more = await testSplit(float, encodeModel(roomier.model));
    const show = (name: string, r: typeof u4, choice?: string) =>
      console.log(
        `${fixture} ${name}: ${r.bytes} B, test accuracy ${(r.accuracy * 100).toFixed(2)}% ` +
          `(2,000 samples), SQNR ${r.sqnrDb.toFixed(2)} dB${choice ? ` [${choice}]` : ""}`,
      );
    const choiceOf = (a: PrecisionAssignment) =>
      a.assignment.map((l) => `${l.node}:${l.bits}/${l.blockSize ?? BASE.blockSize}`).join(" ");
    show("uniform 4-bit block 32", u4);
    show("mixed bits and blocks at its size", same, choiceOf(atSize));
    show("mixed bits at +3%", more, choiceOf(roomier));

    // Issue 5: mixed precision beats uniform 4-bit at the same size (test split, 2,000 samples).
    assert.ok(same.bytes <= u4.bytes, `${same.bytes} > ${u4.bytes}`);
    assert.ok(same.sqnrDb > u4.sqnrDb, `${same.sqnrDb} <= ${u4.sqnrDb}`);
    // 2,000 samples: a few of them flip either way (±0.25 pp) whatever the SQNR. On the MLP,
    // uniform 4-bit scores 97.90%, 0.1 pp above the float model, and the mixed model 97.70%.
    assert.ok(same.accuracy >= u4.accuracy - 0.005, `${same.accuracy} < ${u4.accuracy}`);
    // Some layer really differs from uniform 4-bit block 32.
    assert.ok(atSize.assignment.some((l) => l.bits !== 4 || l.blockSize !== 32));
    assert.ok(more.bytes <= u4.bytes * 1.03);
    assert.ok(more.sqnrDb >= u4.sqnrDb + 2, `${more.sqnrDb} vs ${u4.sqnrDb}`);
    // 2,000 samples: a few of them flip either way (±0.25 pp) whatever the SQNR.
    assert.ok(more.accuracy >= u4.accuracy - 0.005, `${more.accuracy} < ${u4.accuracy}`);
    // The byte model is calibrated on one measured assignment: exact for these models.
    for (const a of [atSize, roomier]) {
      assert.ok(Math.abs(a.predicted.bytes - a.measured.bytes) <= 0.01 * a.measured.bytes);
      assert.ok(Math.abs(a.predicted.fidelity.sqnrDb - a.measured.fidelity.sqnrDb) <= 3);
    }
    // Every layer's report holds every candidate, block sizes included, the chosen one among them.
    for (const layer of atSize.assignment) {
      assert.deepEqual(
        layer.sensitivity.map((s) => [s.bits, s.blockSize]),
        BLOCK_CANDIDATES.map((c) => [c.bits, c.blockSize]),
      );
      const own = layer.sensitivity.find((s) =>
        s.bits === layer.bits && s.blockSize === layer.blockSize
      );
      assert.equal(layer.bytes, own!.bytes);
    }
  });

  Deno.test(`assignPrecision() on ${fixture} meets an SQNR floor of 28 dB with fewer bytes than uniform 8-bit`, async () => {
    const u8 = await uniform(float, 8);
    // Between uniform 4-bit (about 25 dB) and 8-bit (about 49 dB).
    const floor = 28;
    const r = await assignPrecision(decodeModel(float), train, {
      candidates: CANDIDATES,
      target: { fidelity: { metric: "sqnr", min: floor } },
      recipe: BASE,
      samples: 128,
      kernels,
    });
    const t = await testSplit(float, encodeModel(r.model));
    console.log(
      `${fixture} SQNR >= ${floor} dB: ${r.measured.bytes} B (uniform 8-bit ${u8.bytes} B), ` +
        `calibration SQNR predicted ${r.predicted.fidelity.sqnrDb.toFixed(2)} measured ` +
        `${r.measured.fidelity.sqnrDb.toFixed(2)} dB, test SQNR ${t.sqnrDb.toFixed(2)} dB, ` +
        `accuracy ${(t.accuracy * 100).toFixed(2)}% [${
          r.assignment.map((l) => `${l.node}:${l.bits}`).join(" ")
        }]`,
    );
    assert.ok(r.measured.fidelity.sqnrDb >= floor);
    assert.ok(r.predicted.fidelity.sqnrDb >= floor);
    assert.ok(r.measured.bytes < u8.bytes, `${r.measured.bytes} >= ${u8.bytes}`);
    assert.equal(r.samples, 128);
    // The report: every layer with every candidate measured, the chosen one among them.
    for (const layer of r.assignment) {
      assert.deepEqual(layer.sensitivity.map((s) => s.bits), CANDIDATES);
      assert.ok(CANDIDATES.includes(layer.bits));
      assert.equal(layer.bytes, layer.sensitivity.find((s) => s.bits === layer.bits)!.bytes);
      const eight = layer.sensitivity.find((s) => s.bits === 8)!.fidelity.sqnrDb;
      const two = layer.sensitivity.find((s) => s.bits === 2)!.fidelity.sqnrDb;
      // conv1 (one input channel, blocks of one weight) is lossless at any bits.
      assert.ok(eight > two || two > 100, `${layer.node}: 8-bit ${eight} dB, 2-bit ${two} dB`);
    }
    assert.ok(Math.abs(r.predicted.fidelity.sqnrDb - r.measured.fidelity.sqnrDb) <= 3);
    assert.equal(r.recipe.overrides?.length, r.assignment.length);
  });
}

Deno.test("assignPrecision() reports progress and leaves the model unchanged", async () => {
  const model = decodeModel(floats.mnist_mlp!);
  const phases: string[] = [];
  const r = await assignPrecision(model, train, {
    candidates: [4, 8, 32],
    target: { fidelity: { metric: "agreement", min: 0.99 } },
    recipe: BASE,
    samples: 64,
    kernels,
    onProgress: (p) => phases.push(`${p.phase} ${p.done}/${p.total}`),
  });
  assert.deepEqual(encodeModel(model), floats.mnist_mlp);
  assert.equal(phases[0], "sensitivity 0/6");
  assert.ok(phases.includes("sensitivity 6/6"));
  assert.ok(phases.at(-1)!.startsWith("measure"));
  assert.ok(r.measured.fidelity.agreement >= 0.99);
  // Float (32) is a candidate: its sensitivity is lossless and costs the float bytes.
  const float = r.assignment[0]!.sensitivity.find((s) => s.bits === 32)!;
  assert.equal(float.fidelity.sqnrDb, Infinity);
  assert.equal(float.bytes, 784 * 256 * 4);
});

Deno.test("assignPrecision() refuses bad options with clear errors", async () => {
  const model = decodeModel(floats.mnist_mlp!);
  const run = (options: Partial<Parameters<typeof assignPrecision>[2]>) =>
    assignPrecision(model, train, {
      candidates: [2, 4, 8],
      target: { bytes: 200_000 },
      recipe: BASE,
      samples: 32,
      kernels,
      ...options,
    });
  await assert.rejects(run({ candidates: [] }), {
    name: "RangeError",
    message: /candidates is empty/,
  });
  await assert.rejects(run({ candidates: [1, 4] }), { name: "RangeError", message: /got 1/ });
  await assert.rejects(run({ candidates: [4, { bits: 9, blockSize: 64 }] }), {
    name: "RangeError",
    message: /bits must be integers 2..8, 16 or 32 \(float\), got 9/,
  });
  await assert.rejects(run({ candidates: [4, { bits: 4, blockSize: 1 }] }), {
    name: "RangeError",
    message: /candidate \{"bits":4,"blockSize":1\} needs a blockSize that is an integer >= 2/,
  });
  await assert.rejects(run({ candidates: [4, { bits: 32, blockSize: 64 }] }), {
    name: "RangeError",
    message: /leaves the layer in float, which has no block size/,
  });
  await assert.rejects(
    run({ candidates: [4, { bits: 4, blockSize: 64 }], recipe: { method: "linear" } }),
    { name: "RangeError", message: /recipe's granularity is 'channel', not 'block'/ },
  );
  await assert.rejects(run({ candidates: [{ bits: 4, block: 64 } as never] }), {
    name: "TypeError",
    message: /unknown field 'block'/,
  });
  await assert.rejects(run({ target: { bytes: 1000 } }), {
    name: "RangeError",
    message: /target of 1000 bytes is unreachable; the smallest assignment .* predicted at \d+/,
  });
  await assert.rejects(run({ target: { fidelity: { metric: "sqnr", min: 200 } } }), {
    name: "RangeError",
    message: /sqnr floor of 200 is unreachable; the best assignment .* predicted at [\d.]+ dB/,
  });
  await assert.rejects(run({ recipe: { method: "dynamic" } }), {
    name: "RangeError",
    message: /method must be 'linear', 'log' or 'kmeans', got 'dynamic'/,
  });
  await assert.rejects(run({ target: { bytes: -1 } }), { name: "RangeError" });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(run({ signal: controller.signal }), { name: "AbortError" });
});
