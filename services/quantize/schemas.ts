/**
 * The zod schemas of the quantize service: they validate requests and generate the OpenAPI
 * document, so the two cannot drift apart. The recipe schema mirrors `QuantizeRecipe` of
 * `@modelpress/quantize` field by field (shapes and types); `validateRecipe` then checks what
 * depends on several fields (bits per method, static needs calibration, ...).
 * @module
 */
import { z } from "@hono/zod-openapi";
import { JOB_FIELDS } from "@modelpress/http";

/** How weight ranges are chosen. */
export const RangeMethodSchema = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("minmax") }),
  z.strictObject({
    method: z.literal("percentile"),
    percentile: z.number().min(50).max(100).optional(),
  }),
  z.strictObject({
    method: z.literal("mse"),
    steps: z.int().min(1).max(1000).optional(),
    minRatio: z.number().gt(0).max(1).optional(),
  }),
  z.strictObject({ method: z.literal("std"), k: z.number().positive().optional() }),
]).openapi("RangeMethod", { description: "How weight ranges are chosen (default minmax)." });

const SETTINGS = {
  method: z.enum(["linear", "dynamic", "static", "log", "kmeans"]).optional().openapi({
    description: "linear (QDQ), dynamic (integer kernels), static (calibrated QDQ of weights and " +
      "activations), log (powers of two), kmeans (codebook).",
  }),
  bits: z.int().min(2).max(16).optional().openapi({
    description: "Bits per weight code: 2..8 or 16 (dynamic: 8; log: 3..8). Default 8.",
  }),
  signed: z.boolean().optional().openapi({ description: "Signed codes. Default true." }),
  symmetric: z.boolean().optional().openapi({ description: "Symmetric ranges. Default true." }),
  granularity: z.enum(["tensor", "channel", "block"]).optional().openapi({
    description: "One range per tensor, per output channel, or per block. Default channel.",
  }),
  blockSize: z.int().min(2).optional().openapi({ description: "Block length. Default 32." }),
  format: z.enum(["matmulnbits", "dequantizelinear"]).optional().openapi({
    description: "How blocked linear MatMul/Gemm weights are written. Default matmulnbits.",
  }),
  range: RangeMethodSchema.optional(),
};

/** Which nodes an override applies to: every field given must match. */
export const NodeMatchSchema = z.strictObject({
  name: z.string().min(1).optional().openapi({ description: "The node's exact name." }),
  pattern: z.string().min(1).optional().openapi({
    description: "A regular expression searched in the node's name.",
  }),
  opType: z.string().min(1).optional().openapi({ description: "The operator, such as Conv." }),
}).openapi("NodeMatch");

/** Settings for the nodes that match, or `skip`. */
export const NodeOverrideSchema = z.strictObject({
  ...SETTINGS,
  match: NodeMatchSchema,
  skip: z.boolean().optional().openapi({ description: "Leave these nodes unquantized." }),
}).openapi("NodeOverride");

/** Calibration of activations (`static` only). */
export const CalibrationRecipeSchema = z.strictObject({
  method: z.enum(["minmax", "percentile", "entropy", "mse"]),
  percentile: z.number().min(50).max(100).optional(),
  bins: z.int().min(128).max(65536).optional(),
  samples: z.int().min(1).optional().openapi({ description: "Calibration samples. Default 500." }),
  activations: z.enum(["uint8", "int8"]).optional(),
}).openapi("CalibrationRecipe");

/**
 * A quantization recipe, sent as the `recipe` form field (JSON). Unknown fields are refused, so a
 * typo never silently becomes a default.
 */
export const QuantizeRecipeSchema = z.strictObject({
  ...SETTINGS,
  method: SETTINGS.method.unwrap(),
  overrides: z.array(NodeOverrideSchema).max(1000).optional().openapi({
    description: "Per-node overrides, in order (later ones win).",
  }),
  calibration: CalibrationRecipeSchema.optional(),
}).openapi("QuantizeRecipe");

/** The quantization report of `@modelpress/quantize`, as JSON. */
export const QuantizationReportSchema = z.unknown().openapi("QuantizationReport", {
  type: "object",
  description: "The QuantizationReport of @modelpress/quantize's quantizeModel(): recipe, " +
    "kernels backend, opset, per tensor (method, bits, granularity, scale/zero-point summary, " +
    "MSE, SQNR), per node (quantized or skipped with the reason), activations and calibration " +
    "(static), size before/after and time.",
});

/** Where the quantized model is. */
export const QuantizedModelLinkSchema = z.object({
  url: z.string().openapi({
    description: "GET it for the quantized model (application/octet-stream).",
    example: "/v1/quantizations/4c1b6e4e-0c9f-4d5e-9d43-1f6d3f7b1a2c/model",
  }),
  bytes: z.int().openapi({ description: "The quantized model's size." }),
}).openapi("QuantizedModelLink");

/** A quantization job as clients see it. */
export const QuantizationSchema = z.object({
  ...JOB_FIELDS,
  result: z.object({ report: QuantizationReportSchema, model: QuantizedModelLinkSchema })
    .optional(),
}).openapi("Quantization");

/** The `multipart/form-data` body of POST /v1/quantizations (for the OpenAPI document). */
export const CreateQuantizationFormSchema = z.object({
  model: z.string().openapi({ type: "string", format: "binary", description: "The ONNX model." }),
  recipe: z.string().openapi({
    description: "QuantizeRecipe as JSON.",
    example: '{"method":"dynamic"}',
  }),
  calibration: z.string().optional().openapi({
    description: "The calibration data of method static: an uploaded dataset file (.npz, .npy " +
      'or .json), or a built-in name: "mnist".',
    example: "mnist",
  }),
}).openapi("CreateQuantizationForm");
