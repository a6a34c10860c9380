import assert from "node:assert/strict";
import { z } from "@hono/zod-openapi";
import { OnnxParseError } from "@modelpress/onnx";
import { ApiError } from "./api_error.ts";
import { QueueFullError } from "./job_queue.ts";
import { toApiError, toJobError, zodErrorToApiError } from "./to_api_error.ts";

Deno.test("toApiError() maps each kind of error to its status and code", () => {
  const parse = toApiError(new OnnxParseError("truncated varint", 7));
  assert.deepEqual([parse.status, parse.code, parse.details?.offset], [422, "invalid_model", 7]);
  const busy = toApiError(new QueueFullError("full", { retryAfterSeconds: 3 }));
  assert.deepEqual([busy.status, busy.headers["Retry-After"]], [503, "3"]);
  const own = new ApiError("x", { status: 409, code: "conflict" });
  assert.equal(toApiError(own), own);
  assert.equal(toApiError(new Error("bug")).status, 500);
  assert.deepEqual(toJobError(new OnnxParseError("bad", 2)).details, { offset: 2 });
});

Deno.test("zodErrorToApiError() names the failing field path, with the subject and code asked for", () => {
  const result = z.strictObject({ a: z.object({ b: z.array(z.int()) }) })
    .safeParse({ a: { b: [1, 1.5] } });
  assert.ok(!result.success);
  const error = zodErrorToApiError(result.error, { subject: "recipe", code: "invalid_recipe" });
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_recipe");
  assert.equal(error.details?.field, "a.b[1]");
  assert.match(error.message, /^Invalid recipe: a\.b\[1\]: /);
});
