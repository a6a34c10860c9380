import assert from "node:assert/strict";
import { ErrorBodySchema, errorResponsesFor } from "./schemas.ts";

Deno.test("errorResponsesFor() describes the statuses asked for from one table", () => {
  const responses = errorResponsesFor({ 404: "No such job", 409: "Not finished" });
  assert.deepEqual(responses(404, 503), {
    404: {
      description: "No such job",
      content: { "application/json": { schema: ErrorBodySchema } },
    },
    503: { description: "Error", content: { "application/json": { schema: ErrorBodySchema } } },
  });
  assert.deepEqual(Object.keys(responses()), []);
});
