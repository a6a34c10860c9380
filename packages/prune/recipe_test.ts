import assert from "node:assert/strict";
import { nmPattern, validatePruneRecipe } from "./recipe.ts";

Deno.test("validatePruneRecipe() fills defaults and freezes", () => {
  const r = validatePruneRecipe({ method: "magnitude" });
  assert.equal(r.sparsity, 0.5);
  assert.ok(Object.isFrozen(r));
  const nm = validatePruneRecipe({ method: "nm", pattern: "4:8" });
  assert.equal(nm.sparsity, 0.5);
  assert.equal(validatePruneRecipe({ method: "nm" }).pattern, "2:4");
});

Deno.test("validatePruneRecipe() rejects out-of-range and unknown fields with clear messages", () => {
  assert.throws(
    () => validatePruneRecipe({ method: "magnitude", sparsity: 1.2 }),
    { name: "RangeError", message: "Invalid prune recipe: sparsity must be in [0, 1), got 1.2" },
  );
  assert.throws(() => validatePruneRecipe({ method: "magnitude", sparsity: 1 }), RangeError);
  assert.throws(() => validatePruneRecipe({ method: "magnitude", sparsity: -0.1 }), RangeError);
  assert.throws(() => validatePruneRecipe({ method: "magnitude", sparsity: "0.5" }), TypeError);
  assert.throws(() => validatePruneRecipe({ method: "prune" }), {
    name: "RangeError",
    message: /method must be one of magnitude, random, nm, wanda, neuron, channel/,
  });
  assert.throws(() => validatePruneRecipe({}), /method is required/);
  assert.throws(() => validatePruneRecipe({ method: "magnitude", foo: 1 }), /unknown field 'foo'/);
  assert.throws(() => validatePruneRecipe(null), /recipe must be an object/);
  assert.throws(
    () => validatePruneRecipe({ method: "nm", pattern: "2:4", sparsity: 0.3 }),
    /removes 0.5, got sparsity 0.3/,
  );
  assert.throws(() => validatePruneRecipe({ method: "magnitude", pattern: "2:4" }), RangeError);
  assert.throws(() => validatePruneRecipe({ method: "wanda", global: true }), /global is only/);
  assert.throws(() => validatePruneRecipe({ method: "magnitude", importance: "l1" }), RangeError);
  assert.throws(
    () => validatePruneRecipe({ method: "magnitude", include: [{ pattern: "(" }] }),
    SyntaxError,
  );
  assert.throws(() => validatePruneRecipe({ method: "magnitude", include: [{}] }), TypeError);
  assert.throws(
    () => validatePruneRecipe({ method: "magnitude", bounds: [{ min: 0.6, max: 0.5 }] }),
    /min 0.6 is above max 0.5/,
  );
  assert.throws(
    () => validatePruneRecipe({ method: "magnitude", schedule: { steps: 0 } }),
    /schedule.steps must be an integer 1..100, got 0/,
  );
  assert.throws(
    () => validatePruneRecipe({ method: "wanda", calibration: { samples: 0 } }),
    /calibration.samples must be a positive integer/,
  );
  assert.throws(() => validatePruneRecipe({ method: "magnitude", storage: "zip" }), RangeError);
});

Deno.test("validatePruneRecipe() keeps every valid field", () => {
  const input = {
    method: "neuron",
    sparsity: 0.25,
    importance: "activation",
    include: [{ opType: "Gemm" }],
    exclude: [{ name: "fc3" }],
    bounds: [{ match: { pattern: "^fc" }, min: 0.1, max: 0.8 }],
    seed: 3,
    storage: "dense",
    calibration: { samples: 100, batchSize: 10 },
    schedule: { steps: 3 },
  };
  assert.deepEqual(validatePruneRecipe(JSON.parse(JSON.stringify(input))), input);
});

Deno.test("nmPattern() gives n, m and the fraction removed", () => {
  assert.deepEqual(nmPattern("2:4"), { n: 2, m: 4, sparsity: 0.5 });
  assert.deepEqual(nmPattern("4:8"), { n: 4, m: 8, sparsity: 0.5 });
});
