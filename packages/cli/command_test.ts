import assert from "node:assert/strict";
import { OnnxParseError } from "@modelpress/onnx";
import { withTempDir } from "../../test/support/temp_dir.ts";
import { commandFailure, statInputFile } from "./command.ts";

Deno.test("commandFailure() names the action, the file and the reason", () => {
  const notFound = (() => {
    try {
      Deno.statSync("/definitely/not/here");
    } catch (e) {
      return e;
    }
  })();
  assert.equal(
    commandFailure(notFound, { verb: "inspect", path: "a.onnx" }).message,
    "Cannot inspect 'a.onnx': file not found",
  );
  assert.equal(
    commandFailure(new RangeError("Tensor 'w' is short"), { verb: "read", path: "a.onnx" }).message,
    "Cannot read 'a.onnx': Tensor 'w' is short",
  );
  assert.equal(
    commandFailure("odd", { verb: "write", path: "b" }).message,
    "Cannot write 'b': odd",
  );
});

Deno.test("commandFailure() keeps the byte offset of a parse error and the cause", () => {
  const parse = new OnnxParseError("varint is too long", 17);
  const e = commandFailure(parse, { verb: "inspect", path: "m.onnx" });
  assert.equal(
    e.message,
    "Cannot inspect 'm.onnx': not a valid ONNX model (at byte 17: varint is too long)",
  );
  assert.equal(e.cause, parse);
});

Deno.test("commandFailure() keeps messages of our own Deno.errors, not OS boilerplate", () => {
  const ours = new Deno.errors.NotFound("external data file 'w.bin' is missing");
  assert.equal(
    commandFailure(ours, { verb: "read", path: "m.onnx" }).message,
    "Cannot read 'm.onnx': external data file 'w.bin' is missing",
  );
});

Deno.test("statInputFile() returns file info and refuses folders and missing files", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/f`, new Uint8Array(3));
    assert.equal((await statInputFile("inspect", `${dir}/f`)).size, 3);
    await assert.rejects(
      () => statInputFile("inspect", dir),
      new Error(`Cannot inspect '${dir}': it is a folder, not a file`),
    );
    await assert.rejects(
      () => statInputFile("convert", `${dir}/g`),
      new Error(`Cannot convert '${dir}/g': file not found`),
    );
  });
});
