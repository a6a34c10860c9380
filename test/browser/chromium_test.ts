import assert from "node:assert/strict";
import { withChromium } from "./chromium.ts";

Deno.test("withChromium() fails, saying how to install it, when the browser is missing", async () => {
  let called = false;
  await assert.rejects(
    () =>
      withChromium(() => {
        called = true;
        return Promise.resolve();
      }, { executablePath: "/nonexistent/chromium" }),
    /^Error: Cannot launch chromium: \/nonexistent\/chromium is missing .*apt-get install -y --no-install-recommends chromium/,
  );
  assert.equal(called, false);
});
