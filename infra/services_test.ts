import assert from "node:assert/strict";
import { SERVICES } from "./services.ts";
import { validateServices } from "./supervisor.ts";

Deno.test("SERVICES is a valid list: unique names and ports, entries that exist", () => {
  validateServices(SERVICES);
  assert.ok(Object.isFrozen(SERVICES));
});
