import assert from "node:assert/strict";
import { scriptJson } from "./_json.ts";

Deno.test("scriptJson() leaves no character that can end a script element and parses back", () => {
  const value = { name: "</script><script>alert(1)</script><!-- & \u2028\u2029 ' \"" };
  const text = scriptJson(value);
  assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
  assert.deepEqual(JSON.parse(text), value);
});
