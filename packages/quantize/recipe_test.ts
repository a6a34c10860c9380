import assert from "node:assert/strict";
import { resolveSettings, validateRecipe } from "./recipe.ts";

Deno.test("validateRecipe() returns a frozen copy and resolveSettings() fills defaults", () => {
  const input = {
    method: "linear",
    bits: 4,
    overrides: [{ match: { opType: "Conv" }, bits: 8, range: { method: "mse", steps: 10 } }],
  };
  const recipe = validateRecipe(input);
  assert.ok(Object.isFrozen(recipe));
  assert.notEqual(recipe, input as unknown);
  const base = resolveSettings(recipe, []);
  assert.deepEqual(base, {
    method: "linear",
    bits: 4,
    signed: true,
    symmetric: true,
    granularity: "channel",
    blockSize: 32,
    range: { method: "minmax" },
    format: "matmulnbits",
  });
  const conv = resolveSettings(recipe, recipe.overrides!);
  assert.equal(conv.bits, 8);
  assert.deepEqual(conv.range, { method: "mse", steps: 10 });
});

Deno.test("validateRecipe() names the field that is wrong", () => {
  const cases: [unknown, RegExp, ErrorConstructor][] = [
    [null, /recipe must be an object/, TypeError],
    [{}, /method is required/, TypeError],
    [
      { method: "lut" },
      /recipe\.method must be 'linear', 'dynamic', 'static', 'log' or 'kmeans', got "lut"/,
      RangeError,
    ],
    [{ method: "linear", bits: 9 }, /bits must be an integer 2\.\.8 or 16, got 9/, RangeError],
    [{ method: "linear", bits: "8" }, /bits must be a number/, TypeError],
    [{ method: "linear", blockSize: 1 }, /blockSize must be an integer >= 2/, RangeError],
    [{ method: "linear", granularity: "row" }, /granularity must be/, RangeError],
    [{ method: "linear", colour: 1 }, /unknown field 'colour'/, TypeError],
    [{ method: "linear", range: { method: "kl" } }, /range\.method must be/, RangeError],
    [
      { method: "linear", range: { method: "percentile", percentile: 120 } },
      /percentile must be in 50\.\.100, got 120/,
      RangeError,
    ],
    [{ method: "linear", overrides: [{ match: {} }] }, /needs name, pattern or opType/, TypeError],
    [
      { method: "linear", overrides: [{ match: { pattern: "(" } }] },
      /overrides\[0\]\.match\.pattern is not a regular expression/,
      SyntaxError,
    ],
    [{ method: "dynamic", bits: 4 }, /dynamic quantization needs 8 bits/, RangeError],
    [{ method: "dynamic", granularity: "block" }, /not block/, RangeError],
    [
      { method: "dynamic", symmetric: false },
      /asymmetric weights needs tensor granularity/,
      RangeError,
    ],
    [
      { method: "linear", bits: 4, overrides: [{ match: { opType: "Gemm" }, method: "dynamic" }] },
      /overrides\[0\]: dynamic quantization needs 8 bits, got 4/,
      RangeError,
    ],
  ];
  for (const [recipe, message, type] of cases) {
    assert.throws(() => validateRecipe(recipe), (e: Error) => {
      assert.ok(e instanceof type, `${JSON.stringify(recipe)}: ${e.constructor.name}`);
      assert.match(e.message, /^Cannot use recipe: /);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("validateRecipe() accepts every documented form", () => {
  for (
    const recipe of [
      { method: "linear" },
      { method: "linear", bits: 16, signed: false, symmetric: false, granularity: "tensor" },
      {
        method: "linear",
        bits: 4,
        granularity: "block",
        blockSize: 64,
        range: { method: "std", k: 2.5 },
      },
      { method: "dynamic", granularity: "tensor", symmetric: false },
      { method: "dynamic", overrides: [{ match: { opType: "LSTM" }, method: "linear" }] },
      { method: "linear", overrides: [{ match: { name: "fc1", pattern: "^fc" }, skip: true }] },
    ]
  ) {
    assert.doesNotThrow(() => validateRecipe(recipe), JSON.stringify(recipe));
  }
});

Deno.test("validateRecipe() checks the calibration of method 'static'", () => {
  const recipe = validateRecipe({
    method: "static",
    calibration: { method: "percentile", percentile: 99.99, bins: 1024, samples: 200 },
  });
  assert.ok(Object.isFrozen(recipe.calibration));
  assert.equal(resolveSettings(recipe, []).method, "static");
  assert.doesNotThrow(() =>
    validateRecipe({
      method: "linear",
      overrides: [{ match: { opType: "Conv" }, method: "static" }],
      calibration: { method: "entropy", activations: "int8" },
    })
  );
  const cases: [unknown, RegExp, ErrorConstructor][] = [
    [{ method: "static" }, /method 'static' needs recipe\.calibration/, TypeError],
    [
      { method: "linear", calibration: { method: "minmax" } },
      /calibration is only used by method 'static'/,
      RangeError,
    ],
    [
      { method: "static", calibration: { method: "kl" } },
      /recipe\.calibration\.method must be 'minmax', 'percentile', 'entropy' or 'mse', got "kl"/,
      RangeError,
    ],
    [
      { method: "static", calibration: { method: "percentile", percentile: 20 } },
      /recipe\.calibration\.percentile must be in 50\.\.100, got 20/,
      RangeError,
    ],
    [
      { method: "static", calibration: { method: "mse", percentile: 99 } },
      /percentile needs method 'percentile'/,
      TypeError,
    ],
    [
      { method: "static", calibration: { method: "mse", bins: 10 } },
      /bins must be an integer 128\.\.65536, got 10/,
      RangeError,
    ],
    [
      { method: "static", calibration: { method: "mse", samples: 0 } },
      /samples must be a positive integer/,
      RangeError,
    ],
    [
      { method: "static", calibration: { method: "mse", activations: "int4" } },
      /activations must be 'uint8' or 'int8', got "int4"/,
      RangeError,
    ],
    [
      { method: "static", calibration: { method: "mse", size: 1 } },
      /recipe\.calibration has unknown field 'size'/,
      TypeError,
    ],
    [
      { method: "static", granularity: "block", calibration: { method: "minmax" } },
      /static quantization supports tensor or channel granularity, not block/,
      RangeError,
    ],
  ];
  for (const [r, message, type] of cases) {
    assert.throws(() => validateRecipe(r), (e: Error) => {
      assert.ok(e instanceof type, `${JSON.stringify(r)}: ${e.constructor.name} ${e.message}`);
      assert.match(e.message, /^Cannot use recipe: /);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("validateRecipe() checks methods 'log' and 'kmeans'", () => {
  for (
    const recipe of [
      { method: "log", bits: 3 },
      { method: "log", bits: 8, granularity: "tensor" },
      { method: "kmeans", bits: 2 },
      { method: "linear", overrides: [{ match: { opType: "Conv" }, method: "kmeans", bits: 4 }] },
    ]
  ) {
    assert.doesNotThrow(() => validateRecipe(recipe), JSON.stringify(recipe));
  }
  const cases: [unknown, RegExp][] = [
    [{ method: "log", bits: 2 }, /recipe: log quantization needs 3\.\.8 bits, got 2/],
    [{ method: "log", bits: 16 }, /log quantization needs 3\.\.8 bits, got 16/],
    [{ method: "kmeans", bits: 16 }, /k-means quantization needs 2\.\.8 bits, got 16/],
    [{ method: "kmeans", granularity: "block" }, /k-means quantization supports tensor or channel/],
    [{ method: "log", signed: false }, /log quantization is signed and symmetric/],
    [
      { method: "kmeans", range: { method: "mse" } },
      /k-means quantization sets its own levels, so range 'mse' does not apply/,
    ],
    [
      { method: "linear", bits: 2, overrides: [{ match: { name: "fc" }, method: "log" }] },
      /overrides\[0\]: log quantization needs 3\.\.8 bits, got 2/,
    ],
  ];
  for (const [recipe, message] of cases) {
    assert.throws(() => validateRecipe(recipe), (e: Error) => {
      assert.ok(e instanceof RangeError, `${JSON.stringify(recipe)}: ${e.constructor.name}`);
      assert.match(e.message, /^Cannot use recipe: /);
      assert.match(e.message, message);
      return true;
    });
  }
});
