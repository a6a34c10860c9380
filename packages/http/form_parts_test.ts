import assert from "node:assert/strict";
import { z } from "@hono/zod-openapi";
import { ApiError } from "./api_error.ts";
import { thrownApiError } from "../../test/support/service_checks.ts";
import {
  badField,
  checkModelPart,
  derivedModelName,
  formatFieldPath,
  issueField,
  jobFailure,
  modelPart,
  parseJsonPart,
  partsByName,
  readCalibrationPart,
  type ReadCalibrationPartOptions,
  readRecipeUpload,
} from "./form_parts.ts";
import type { FormPart } from "./read_multipart.ts";

const MLP = await Deno.readFile(new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url));
const LIMITS = {
  maxBodyBytes: 1 << 20,
  maxModelBytes: 1 << 20,
  maxDatasetBytes: 64,
  maxRecipeBytes: 64,
};

function part(name: string, text: string | Uint8Array, extra: Partial<FormPart> = {}): FormPart {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return { name, filename: undefined, contentType: undefined, bytes, ...extra };
}

const thrown = thrownApiError;

async function rejected(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail("did not reject");
}

Deno.test("badField() is a 400 bad_request naming the field", () => {
  const e = badField("model", "the 'model' field is missing");
  assert.equal(e.status, 400);
  assert.equal(e.code, "bad_request");
  assert.equal(e.message, "Cannot read the request: the 'model' field is missing");
  assert.deepEqual(e.details, { field: "model" });
});

Deno.test("partsByName() keys the parts by name and refuses a field given twice", () => {
  const byName = partsByName([part("recipe", "{}"), part("model", "x")]);
  assert.deepEqual([...byName.keys()], ["recipe", "model"]);
  const e = thrown(() => partsByName([part("recipe", "{}"), part("recipe", "{}")]));
  assert.equal(e.message, "Cannot read the request: field 'recipe' is given twice");
  assert.deepEqual(e.details, { field: "recipe" });
});

Deno.test("readRecipeUpload() reads model, recipe and calibration within their limits", async () => {
  const form = new FormData();
  form.set("model", new File([MLP], "mlp.onnx"));
  form.set("recipe", '{"method":"dynamic"}');
  const byName = await readRecipeUpload(
    new Request("http://x/", { method: "POST", body: form }),
    { ...LIMITS, maxModelBytes: MLP.length },
  );
  assert.equal(byName.get("model")?.filename, "mlp.onnx");
  assert.equal(byName.get("model")?.bytes.length, MLP.length);
  assert.equal(new TextDecoder().decode(byName.get("recipe")?.bytes), '{"method":"dynamic"}');
  form.set("calibration", new File([new Uint8Array(65)], "data.npz"));
  const e = await rejected(
    readRecipeUpload(new Request("http://x/", { method: "POST", body: form }), {
      ...LIMITS,
      maxModelBytes: MLP.length,
    }),
  );
  assert.equal(e.status, 413);
});

Deno.test("checkModelPart() and modelPart() accept a model, refuse bytes that are not one (422) or none (400)", () => {
  checkModelPart(part("model", MLP), "prune");
  assert.equal(modelPart(new Map([["model", part("model", MLP)]]), "prune").bytes, MLP);
  const e = thrown(() =>
    checkModelPart(part("reference", new Uint8Array([0xff, 0xff])), "quantize")
  );
  assert.equal(e.status, 422);
  assert.equal(e.code, "invalid_model");
  assert.match(e.message, /^Cannot quantize field 'reference': /);
  assert.equal(e.details?.field, "reference");
  assert.equal(typeof e.details?.offset, "number");
  const missing = thrown(() => modelPart(new Map(), "prune"));
  assert.equal(missing.status, 400);
  assert.equal(
    missing.message,
    "Cannot read the request: the 'model' field (an ONNX file) is missing",
  );
});

Deno.test("parseJsonPart() parses JSON and names the field of text that is not", () => {
  assert.deepEqual(parseJsonPart(part("recipe", '{"bits":4}'), "invalid_recipe"), { bits: 4 });
  const e = thrown(() => parseJsonPart(part("options", "{nope"), "invalid_options"));
  assert.equal(e.status, 400);
  assert.equal(e.code, "invalid_options");
  assert.match(e.message, /^Invalid options: the 'options' field is not JSON: /);
  assert.deepEqual(e.details, { field: "options" });
});

function calibration(
  neededBy: string | undefined,
  loads: unknown[] = [],
): ReadCalibrationPartOptions<string, "mnist"> {
  return {
    verb: "prune",
    neededBy,
    usedBy: "method 'wanda'",
    builtins: ["mnist"],
    load: (source, options) => {
      loads.push([source, options]);
      if (source instanceof Uint8Array && source.length === 0) {
        return Promise.reject(new SyntaxError("not an NPZ file"));
      }
      return Promise.resolve(typeof source === "string" ? source : "file");
    },
  };
}

Deno.test("readCalibrationPart() loads a built-in on its train split and a file under its name", async () => {
  const loads: unknown[] = [];
  assert.equal(
    await readCalibrationPart(part("calibration", " mnist\n"), calibration("x", loads)),
    "mnist",
  );
  const bytes = new Uint8Array([1, 2]);
  const file = part("calibration", bytes, { filename: "d.npz" });
  assert.equal(await readCalibrationPart(file, calibration("x", loads)), "file");
  const typed = part("calibration", bytes, { contentType: "application/octet-stream" });
  assert.equal(await readCalibrationPart(typed, calibration("x", loads)), "file");
  assert.deepEqual(loads, [["mnist", { split: "train" }], [bytes, { name: "d.npz" }], [bytes, {}]]);
  assert.equal(await readCalibrationPart(undefined, calibration(undefined)), undefined);
});

Deno.test("readCalibrationPart() refuses a part missing, unused, unknown (400) or unloadable (422)", async () => {
  const missing = await rejected(readCalibrationPart(undefined, calibration("method 'wanda'")));
  assert.equal(
    missing.message,
    `Cannot read the request: method 'wanda' needs the 'calibration' field (an .npz file, or "mnist")`,
  );
  assert.deepEqual(missing.details, { field: "calibration" });
  const unused = await rejected(
    readCalibrationPart(part("calibration", "mnist"), calibration(undefined)),
  );
  assert.equal(
    unused.message,
    "Cannot read the request: the 'calibration' field is only used by method 'wanda'",
  );
  const unknown = await rejected(
    readCalibrationPart(part("calibration", "cifar"), calibration("x")),
  );
  assert.equal(unknown.status, 400);
  assert.match(unknown.message, /unknown built-in dataset 'cifar' \(built in: mnist; /);
  const broken = part("calibration", new Uint8Array(), { filename: "d.npz" });
  const bad = await rejected(readCalibrationPart(broken, calibration("x")));
  assert.equal(bad.status, 422);
  assert.equal(bad.code, "invalid_dataset");
  assert.equal(bad.message, "Cannot prune field 'calibration': not an NPZ file");
  assert.deepEqual(bad.details, { field: "calibration" });
});

Deno.test("jobFailure() is a 422 with the code, or the error itself once aborted", () => {
  const error = new RangeError("too sparse");
  const failed = jobFailure(error, new AbortController().signal, "pruning_failed");
  assert.ok(failed instanceof ApiError);
  assert.equal(failed.status, 422);
  assert.equal(failed.code, "pruning_failed");
  assert.equal(failed.message, "too sparse");
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(jobFailure(error, aborted.signal, "pruning_failed"), error);
});

Deno.test("derivedModelName() tags the upload's name, safe in a header", () => {
  assert.equal(derivedModelName("mlp.onnx", "pruned"), "mlp.pruned.onnx");
  assert.equal(
    derivedModelName('C:\\models\\my "net".ONNX', "quantized"),
    "my__net_.quantized.onnx",
  );
  assert.equal(derivedModelName(undefined, "pruned"), "model.pruned.onnx");
  assert.equal(derivedModelName(".onnx", "pruned"), "model.pruned.onnx");
});

Deno.test("formatFieldPath() and issueField() name fields as messages do", () => {
  assert.equal(formatFieldPath(["bounds", 0, "min"]), "bounds[0].min");
  assert.equal(formatFieldPath([]), "");
  const schema = z.strictObject({ calibration: z.strictObject({ samples: z.int() }) });
  const unknown = schema.safeParse({ calibration: { samples: 1, extra: 1 } });
  assert.ok(!unknown.success);
  assert.equal(issueField(unknown.error.issues[0]!), "calibration.extra");
  const wrong = schema.safeParse({ calibration: { samples: 0.5 } });
  assert.ok(!wrong.success);
  assert.equal(issueField(wrong.error.issues[0]!), "calibration.samples");
});
