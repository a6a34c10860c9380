/**
 * The zod schemas of the prune service: they validate requests and generate the OpenAPI
 * document, so the two cannot drift apart. The recipe schema mirrors `PruneRecipe` of
 * `@modelpress/prune` field by field (shapes and types); `validatePruneRecipe` then checks what
 * depends on several fields (nm's implied sparsity, global only for magnitude and random, ...).
 * @module
 */
import { z } from "@hono/zod-openapi";
import { JOB_FIELDS } from "@modelpress/http";

/** Which nodes a selector applies to: every field given must match. */
export const PruneNodeMatchSchema = z.strictObject({
  name: z.string().min(1).optional().openapi({ description: "The node's exact name." }),
  pattern: z.string().min(1).optional().openapi({
    description: "A regular expression searched in the node's name.",
  }),
  opType: z.string().min(1).optional().openapi({ description: "The operator, such as Conv." }),
}).openapi("PruneNodeMatch");

/** Per-layer limits on the fraction removed. */
export const SparsityBoundsSchema = z.strictObject({
  match: PruneNodeMatchSchema.optional().openapi({
    description: "Which layers; omitted: every layer.",
  }),
  min: z.number().min(0).lt(1).optional().openapi({
    description: "The least fraction removed. Default 0.",
  }),
  max: z.number().min(0).max(1).optional().openapi({
    description: "The most fraction removed. Default 1.",
  }),
}).openapi("SparsityBounds");

/**
 * A pruning recipe, sent as the `recipe` form field (JSON). Unknown fields are refused, so a
 * typo never silently becomes a default. The sparsity is always the fraction REMOVED.
 */
export const PruneRecipeSchema = z.strictObject({
  method: z.enum(["magnitude", "random", "nm", "wanda", "neuron", "channel"]).openapi({
    description: "magnitude (smallest |w|), random (a baseline only), nm (N:M semi-structured), " +
      "wanda (|w| times input-activation norm; needs calibration), neuron (remove Gemm/MatMul " +
      "output units), channel (remove Conv filters).",
  }),
  sparsity: z.number().min(0).lt(1).optional().openapi({
    description: "The fraction of weights (or units) REMOVED, in [0, 1). Default 0.5; for nm " +
      "implied by the pattern.",
    example: 0.5,
  }),
  global: z.boolean().optional().openapi({
    description: "One threshold over every layer (magnitude, random). Default false: per layer.",
  }),
  pattern: z.enum(["2:4", "4:8"]).optional().openapi({
    description: "nm: n weights kept in every m consecutive inputs. Default 2:4.",
  }),
  importance: z.enum(["l1", "l2", "random", "activation"]).optional().openapi({
    description: "neuron, channel: how units are ranked (activation needs calibration). " +
      "Default l2.",
  }),
  include: z.array(PruneNodeMatchSchema).max(1000).optional().openapi({
    description: "Only layers matching one of these are pruned.",
  }),
  exclude: z.array(PruneNodeMatchSchema).max(1000).optional().openapi({
    description: "Layers matching one of these are not pruned.",
  }),
  bounds: z.array(SparsityBoundsSchema).max(1000).optional().openapi({
    description: "Per-layer sparsity bounds; later ones win per field.",
  }),
  seed: z.int().optional().openapi({ description: "Seed of random pruning. Default 0." }),
  storage: z.enum(["auto", "dense", "sparse"]).optional().openapi({
    description: "How pruned weights are stored: auto (sparse where smaller), dense (for " +
      "quantizing afterwards), sparse. Default auto.",
  }),
  calibration: z.strictObject({
    samples: z.int().min(1).optional().openapi({ description: "Samples run. Default 256." }),
    batchSize: z.int().min(1).optional().openapi({ description: "Samples per run. Default 64." }),
  }).optional().openapi({ description: "How activations are gathered (wanda, activation)." }),
  recovery: z.strictObject({
    batchNorm: z.boolean().optional().openapi({
      description: "Re-estimate BatchNormalization statistics on the calibration data.",
    }),
    biasCorrection: z.boolean().optional().openapi({
      description: "Correct the biases of layers that lost inputs by the removed inputs' means.",
    }),
  }).optional().openapi({
    description: "neuron, channel: recovery without training (needs calibration).",
  }),
  schedule: z.strictObject({
    steps: z.int().min(1).max(100).openapi({ description: "Steps of rising sparsity." }),
  }).optional().openapi({ description: "Iterative pruning. Default: one step." }),
}).openapi("PruneRecipe");

/** The pruning report of `@modelpress/prune`, as JSON. */
export const PruneReportSchema = z.unknown().openapi("PruneReport", {
  type: "object",
  description: "The PruneReport (schema modelpress.prune/1) of @modelpress/prune's " +
    "pruneModel(): recipe, kernels backend, per layer (shape, params before/after, zeros, " +
    "sparsity, units removed, importance, pruned or skipped with the reason), nodes not " +
    "considered, totals (params, nonzero, MACs, bytes before/after), storage per tensor, " +
    "schedule steps and time.",
});

/** Where the pruned model and its report are. */
export const PrunedModelLinkSchema = z.object({
  url: z.string().openapi({
    description: "GET it for the pruned model (application/octet-stream).",
    example: "/v1/prunings/4c1b6e4e-0c9f-4d5e-9d43-1f6d3f7b1a2c/model",
  }),
  bytes: z.int().openapi({ description: "The pruned model's size." }),
}).openapi("PrunedModelLink");

/** A pruning job as clients see it. */
export const PruningSchema = z.object({
  ...JOB_FIELDS,
  result: z.object({
    report: PruneReportSchema,
    model: PrunedModelLinkSchema,
    reportUrl: z.string().openapi({
      description: "GET it for the report alone (application/json).",
      example: "/v1/prunings/4c1b6e4e-0c9f-4d5e-9d43-1f6d3f7b1a2c/report",
    }),
  }).optional(),
}).openapi("Pruning");

/** The `multipart/form-data` body of POST /v1/prunings (for the OpenAPI document). */
export const CreatePruningFormSchema = z.object({
  model: z.string().openapi({ type: "string", format: "binary", description: "The ONNX model." }),
  recipe: z.string().openapi({
    description: "PruneRecipe as JSON.",
    example: '{"method":"magnitude","sparsity":0.5,"global":true}',
  }),
  calibration: z.string().optional().openapi({
    description: "Calibration data for wanda, activation importance and recovery: an " +
      'uploaded dataset file (.npz, .npy or .json), or a built-in name: "mnist" (its train ' +
      "split).",
    example: "mnist",
  }),
}).openapi("CreatePruningForm");
