import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  encodeModel,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
} from "@modelpress/onnx";
import { memoryIo } from "../cli_io.ts";
import { main } from "../main.ts";
import { summarizeModel } from "../summarize_model.ts";
import { richModel } from "../_testing.ts";
import { sileroPath } from "../../../test/support/silero.ts";
import { withTempDir } from "../../../test/support/temp_dir.ts";
import { formatShape } from "./inspect.ts";

async function withModelFile(
  fn: (path: string, dir: string) => Promise<void>,
  bytes: Uint8Array = encodeModel(richModel()),
): Promise<void> {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/rich.onnx`, bytes);
    await fn(`${dir}/rich.onnx`, dir);
  });
}

Deno.test("inspect prints aligned tables for every section", async () => {
  await withModelFile(async (path) => {
    const io = memoryIo();
    assert.equal(await main(["inspect", path], io), 0);
    const out = io.stdout.text();
    assert.equal(io.stderr.text(), "");
    const lines = out.split("\n");
    assert.match(lines[0] ?? "", /^Model {7}.*rich\.onnx \(\d+(\.\d+)? (B|KiB)\)$/);
    for (
      const expected of [
        "IR version  9",
        "Producer    tests 1.0",
        "Opsets      ai.onnx 17",
        "            com.example 1",
        "  x     tensor(float)  [batch, 4]",
        "  s     seq(tensor(int64))  ?",
        "Nodes: 11 (5 in the main graph, 4 in 3 subgraphs, 2 in 1 function)",
        "  Constant  ai.onnx          3",
        "  Gelu      com.example      1",
        "Parameters: 1,059 elements, 4.15 KiB in 8 tensors",
        "  initializers               4     1,046  4.09 KiB",
        "  float        6     1,050  4.13 KiB",
        "External data: none",
        "  if.then_branch                  2             1",
        "    loop.body                     1             0",
        "  Gelu      com.example      2",
        "  note    two\\nlines",
      ]
    ) {
      assert.ok(lines.includes(expected), `missing line ${JSON.stringify(expected)} in:\n${out}`);
    }
    assert.ok(lines.every((line) => line === line.trimEnd()), "no trailing spaces");
  });
});

Deno.test("inspect --json prints the summary document, the same on every run", async () => {
  await withModelFile(async (path) => {
    const first = memoryIo();
    const second = memoryIo();
    assert.equal(await main(["inspect", "--json", path], first), 0);
    assert.equal(await main(["inspect", path, "--json"], second), 0);
    assert.equal(first.stdout.text(), second.stdout.text());
    const bytes = (await Deno.stat(path)).size;
    assert.deepEqual(
      JSON.parse(first.stdout.text()),
      JSON.parse(JSON.stringify(summarizeModel(richModel(), { file: { path, bytes } }))),
    );
    assert.ok(first.stdout.text().endsWith("}\n"));
  });
});

Deno.test("inspect lists external data files with their sizes, and missing ones", async () => {
  const model = richModel();
  const [w, _b, big] = model.graph?.initializer ?? [];
  const external = (t: TensorProto | undefined, location: string, length: number): void => {
    if (!t) throw new Error("test model changed");
    t.rawData = new Uint8Array(0);
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    t.externalData = [
      create(StringStringEntryProtoSchema, { key: "location", value: location }),
      create(StringStringEntryProtoSchema, { key: "length", value: String(length) }),
    ];
  };
  external(w, "w.bin", 64);
  external(big, "gone.bin", 4096);
  await withModelFile(async (path, dir) => {
    await Deno.writeFile(`${dir}/w.bin`, new Uint8Array(100));
    const io = memoryIo();
    assert.equal(await main(["inspect", path], io), 0);
    const lines = io.stdout.text().split("\n");
    assert.ok(lines.includes("External data: 2 files"), io.stdout.text());
    assert.ok(lines.includes("  gone.bin        1  4.00 KiB  MISSING"), io.stdout.text());
    assert.ok(lines.includes("  w.bin           1      64 B    100 B"), io.stdout.text());
    const json = memoryIo();
    await main(["inspect", path, "--json"], json);
    assert.deepEqual(JSON.parse(json.stdout.text()).externalData, [
      { location: "gone.bin", tensors: 1, bytes: 4096, fileBytes: null },
      { location: "w.bin", tensors: 1, bytes: 64, fileBytes: 100 },
    ]);

    // The same model one folder down, pointing back up at w.bin: not looked at, so MISSING.
    external(w, "../w.bin", 64);
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeFile(`${dir}/sub/rich.onnx`, encodeModel(model));
    const up = memoryIo();
    assert.equal(await main(["inspect", `${dir}/sub/rich.onnx`], up), 0);
    assert.ok(up.stdout.text().split("\n").includes("  ../w.bin        1      64 B  MISSING"));
  }, encodeModel(model));
});

Deno.test("inspect reads real models with nested If subgraphs", async () => {
  const io = memoryIo();
  assert.equal(await main(["inspect", sileroPath("legacy")], io), 0);
  const lines = io.stdout.text().split("\n");
  assert.ok(lines.includes("Nodes: 250 (2 in the main graph, 248 in 18 subgraphs)"));
  assert.ok(lines.includes("  input  tensor(float)  [batch, sequence]"));
  assert.ok(lines.includes("    If_651.else_branch           19            27"));
  const v5 = memoryIo();
  assert.equal(await main(["inspect", sileroPath("v5")], v5), 0);
  assert.ok(v5.stdout.text().split("\n").includes("  input  tensor(float)  [?, ?]"));
});

Deno.test("inspect --help prints usage and the options", async () => {
  const io = memoryIo();
  assert.equal(await main(["inspect", "--help"], io), 0);
  assert.match(io.stdout.text(), /^Usage: modelpress inspect MODEL \[--json\]\n/);
  assert.match(io.stdout.text(), /--json/);
});

Deno.test("inspect fails with exit code 1 and one clear line for a missing file or a folder", async () => {
  const io = memoryIo();
  assert.equal(await main(["inspect", "no/such/model.onnx"], io), 1);
  assert.equal(io.stderr.text(), "error: Cannot inspect 'no/such/model.onnx': file not found\n");
  assert.equal(io.stdout.text(), "");
  await withTempDir(async (dir) => {
    const folder = memoryIo();
    assert.equal(await main(["inspect", dir], folder), 1);
    assert.equal(
      folder.stderr.text(),
      `error: Cannot inspect '${dir}': it is a folder, not a file\n`,
    );
  });
});

Deno.test("inspect shows the byte offset of a parse error", async () => {
  // Field 7 (graph), length 100, but only 2 bytes follow.
  await withModelFile(async (path) => {
    const io = memoryIo();
    assert.equal(await main(["inspect", path], io), 1);
    const err = io.stderr.text();
    assert.match(
      err,
      /^error: Cannot inspect '.*rich\.onnx': not a valid ONNX model \(at byte \d+: .+\)\n$/,
    );
    assert.ok(!err.includes("    at "), "no stack trace");
  }, new Uint8Array([0x3a, 100, 1, 2]));
});

Deno.test("inspect rejects unknown options and a missing MODEL with exit code 2", async () => {
  const unknown = memoryIo();
  assert.equal(await main(["inspect", "m.onnx", "--jsno"], unknown), 2);
  assert.equal(
    unknown.stderr.text(),
    "error: Unknown option '--jsno'\nUsage: modelpress inspect MODEL [--json]\n" +
      "Run 'modelpress inspect --help' for details.\n",
  );
  const missing = memoryIo();
  assert.equal(await main(["inspect"], missing), 2);
  assert.match(missing.stderr.text(), /^error: Missing MODEL/);
  const two = memoryIo();
  assert.equal(await main(["inspect", "a.onnx", "b.onnx"], two), 2);
});

Deno.test("formatShape() shows symbolic dims by name and unknown ones as ?", () => {
  assert.equal(formatShape(["batch", 3, null]), "[batch, 3, ?]");
  assert.equal(formatShape([]), "[]");
  assert.equal(formatShape(null), "?");
});
