import assert from "node:assert/strict";
import { withTempDir } from "./temp_dir.ts";

Deno.test("withTempDir() hands over an empty folder and removes it with its contents", async () => {
  let seen = "";
  const result = await withTempDir(async (dir) => {
    seen = dir;
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/a.txt`, "a");
    return 42;
  });
  assert.equal(result, 42);
  await assert.rejects(Deno.stat(seen), Deno.errors.NotFound);
});

Deno.test("withTempDir() removes the folder when the callback throws, and rethrows", async () => {
  let seen = "";
  await assert.rejects(
    withTempDir((dir) => {
      seen = dir;
      throw new RangeError("boom");
    }),
    new RangeError("boom"),
  );
  assert.notEqual(seen, "");
  await assert.rejects(Deno.stat(seen), Deno.errors.NotFound);
});
