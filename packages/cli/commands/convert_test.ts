import assert from "node:assert/strict";
import { clearField, create } from "@bufbuild/protobuf";
import {
  encodeModel,
  makeGraph,
  makeModel,
  makeTensor,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProtoSchema,
} from "@modelpress/onnx";
import { memoryIo } from "../cli_io.ts";
import { PROGRESS_MIN_BYTES } from "../file_progress.ts";
import { main } from "../main.ts";
import { exists, richModel, runnableFeeds, runnableModel } from "../_testing.ts";
import { runModel } from "../../../test/support/run_model.ts";
import { sileroFeeds, sileroPath } from "../../../test/support/silero.ts";
import { withTempDir } from "../../../test/support/temp_dir.ts";

const SILERO_LEGACY = sileroPath("legacy");

Deno.test("convert without options writes the same bytes it read", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    assert.equal(await main(["convert", SILERO_LEGACY, `${dir}/copy.onnx`], io), 0);
    assert.deepEqual(await Deno.readFile(`${dir}/copy.onnx`), await Deno.readFile(SILERO_LEGACY));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["copy.onnx"]);
    assert.match(io.stdout.text(), /^read +\S+silero_vad_legacy\.onnx +1\.72 MiB +2 nodes/m);
    assert.match(io.stdout.text(), /^wrote +\S+copy\.onnx +1\.72 MiB +model$/m);
    assert.equal(io.stderr.text(), "");
  });
});

Deno.test("convert --external-data-threshold splits a model that still runs the same", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const args = [
      "convert",
      SILERO_LEGACY,
      `${dir}/split.onnx`,
      "--external-data-threshold",
      "1KiB",
    ];
    assert.equal(await main(args, io), 0);
    const out = io.stdout.text();
    assert.match(out, /^wrote +\S+split\.onnx\.data +734 KiB +28 tensors of 1\.00 KiB or more$/m);
    assert.match(out, /^24 tensors at or over the threshold stay inline: they are in subgraphs/m);
    const split = await Deno.readFile(`${dir}/split.onnx`);
    const data = await Deno.readFile(`${dir}/split.onnx.data`);
    assert.ok(split.length < 1.1 * 1024 * 1024, "the model file shrank");
    const original = await runModel(await Deno.readFile(SILERO_LEGACY), sileroFeeds("legacy"));
    const converted = await runModel(split, sileroFeeds("legacy"), {
      externalData: [{ path: "split.onnx.data", data }],
    });
    assert.deepEqual(converted, original);

    // And back: the external data is read and written inline again, byte for byte.
    const back = memoryIo();
    assert.equal(await main(["convert", `${dir}/split.onnx`, `${dir}/back.onnx`], back), 0);
    assert.match(
      back.stdout.text(),
      /^read +split\.onnx\.data +734 KiB +external data, now inline$/m,
    );
    assert.deepEqual(await Deno.readFile(`${dir}/back.onnx`), await Deno.readFile(SILERO_LEGACY));
  });
});

Deno.test("convert --external-data-threshold moves initializers, typed fields too, not Constants", async () => {
  await withTempDir(async (dir) => {
    const model = runnableModel();
    const w = model.graph?.initializer[0] as TensorProto;
    w.floatData = Array.from(new Float32Array(w.rawData.slice().buffer));
    clearField(w, TensorProtoSchema.field.rawData);
    await Deno.writeFile(`${dir}/r.onnx`, encodeModel(model));
    const original = await runModel(model, runnableFeeds());
    const io = memoryIo();
    const args = ["convert", `${dir}/r.onnx`, `${dir}/s.onnx`, "--external-data-threshold", "1KiB"];
    assert.equal(await main(args, io), 0);
    // w (256 floats in float_data) moves; the Constant's 1 KiB value stays inline, as writeModel's
    // default externalKinds says.
    assert.match(
      io.stdout.text(),
      /^wrote +\S+s\.onnx\.data +1\.00 KiB +1 tensor of 1\.00 KiB or more$/m,
    );
    const split = await runModel(await Deno.readFile(`${dir}/s.onnx`), runnableFeeds(), {
      externalData: [{ path: "s.onnx.data", data: await Deno.readFile(`${dir}/s.onnx.data`) }],
    });
    assert.deepEqual(split, original);
    assert.equal(original.z?.data[255], -256 * 255 / 8);
  });
});

Deno.test("convert --location names the data file and says when nothing was moved", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/rich.onnx`, encodeModel(richModel()));
    const io = memoryIo();
    const args = ["convert", `${dir}/rich.onnx`, `${dir}/out.onnx`];
    assert.equal(
      await main([...args, "--external-data-threshold=64", "--location", "w.bin"], io),
      0,
    );
    assert.match(io.stdout.text(), /^wrote +\S+w\.bin +8\.00 KiB +2 tensors of 64 B or more$/m);
    assert.ok((await Deno.stat(`${dir}/w.bin`)).isFile);

    const none = memoryIo();
    assert.equal(await main([...args, "--external-data-threshold", "1MiB"], none), 0);
    assert.match(
      none.stdout.text(),
      /^No main-graph initializer has 1\.00 MiB or more of data: nothing was moved to 'out\.onnx\.data'\.$/m,
    );
  });
});

Deno.test("convert draws progress bars on a terminal stderr for big files only", async () => {
  await withTempDir(async (dir) => {
    const big = makeTensor("big", new Uint8Array(PROGRESS_MIN_BYTES + 1024));
    await Deno.writeFile(
      `${dir}/big.onnx`,
      encodeModel(makeModel(makeGraph("g", { initializers: [big] }))),
    );
    const tty = memoryIo({ isTerminal: true, columns: 100 });
    assert.equal(await main(["convert", `${dir}/big.onnx`, `${dir}/out.onnx`], tty), 0);
    const bars = tty.stderr.text();
    assert.match(bars, /\rread \S+big\.onnx \[/);
    assert.match(bars, /\rwrite \S+out\.onnx \[/);
    assert.ok(!tty.stdout.text().includes("\r"), "stdout stays clean");

    const pipe = memoryIo({ isTerminal: false });
    assert.equal(await main(["convert", `${dir}/big.onnx`, `${dir}/out.onnx`], pipe), 0);
    assert.equal(pipe.stderr.text(), "");

    const split = [
      "convert",
      `${dir}/big.onnx`,
      `${dir}/split.onnx`,
      "--external-data-threshold=1MiB",
    ];
    const splitTty = memoryIo({ isTerminal: true });
    assert.equal(await main(split, splitTty), 0);
    assert.match(splitTty.stderr.text(), /\rwrite \S+split\.onnx \[/);
    const backTty = memoryIo({ isTerminal: true });
    assert.equal(await main(["convert", `${dir}/split.onnx`, `${dir}/back.onnx`], backTty), 0);
    assert.match(backTty.stderr.text(), /\rread external data of \S+split\.onnx \[/);
    assert.ok(backTty.stderr.text().endsWith("\r\u001b[K"), "the last bar's line is cleared");

    await Deno.writeFile(`${dir}/small.onnx`, encodeModel(richModel()));
    const small = memoryIo({ isTerminal: true });
    assert.equal(await main(["convert", `${dir}/small.onnx`, `${dir}/s.onnx`], small), 0);
    assert.equal(small.stderr.text(), "");
  });
});

Deno.test("convert rejects bad options with exit code 2 before touching files", async () => {
  const cases: [string[], RegExp][] = [
    [["a.onnx"], /^error: Missing OUT/],
    [[], /^error: Missing IN and OUT/],
    [["a.onnx", "b.onnx", "c.onnx"], /^error: Unexpected argument 'c\.onnx'/],
    [
      ["a.onnx", "b.onnx", "--external-data-threshold", "lots"],
      /^error: Option '--external-data-threshold': Cannot read 'lots' as a byte size/,
    ],
    [
      ["a.onnx", "b.onnx", "--location", "x.data"],
      /^error: Option '--location' needs '--external-data-threshold'/,
    ],
    [
      ["a.onnx", "b.onnx", "--external-data-threshold", "1", "--location", "d/x"],
      /^error: Option '--location': .*plain file name/,
    ],
    [
      ["a.onnx", "b.onnx", "--external-data-threshold", "1", "--location", ".."],
      /^error: Option '--location': .*plain file name/,
    ],
    [["a.onnx", "b.onnx", "--force"], /^error: Unknown option '--force'/],
  ];
  for (const [args, message] of cases) {
    const io = memoryIo();
    assert.equal(await main(["convert", ...args], io), 2, args.join(" "));
    assert.match(io.stderr.text(), message);
    assert.match(io.stderr.text(), /Run 'modelpress convert --help' for details\.\n$/);
  }
});

Deno.test("convert fails with exit code 1 and a clear message for bad input", async () => {
  await withTempDir(async (dir) => {
    const missing = memoryIo();
    assert.equal(await main(["convert", `${dir}/none.onnx`, `${dir}/o.onnx`], missing), 1);
    assert.equal(
      missing.stderr.text(),
      `error: Cannot convert '${dir}/none.onnx': file not found\n`,
    );

    await Deno.writeFile(`${dir}/bad.onnx`, new Uint8Array([0x08]));
    const bad = memoryIo();
    assert.equal(await main(["convert", `${dir}/bad.onnx`, `${dir}/o.onnx`], bad), 1);
    assert.match(
      bad.stderr.text(),
      /^error: Cannot read '.*bad\.onnx': not a valid ONNX model \(at byte \d+: /,
    );

    await Deno.writeFile(`${dir}/short.bin`, new Uint8Array(10));
    const external: [string, string][] = [
      ["gone.bin", "external file 'gone.bin' is missing"],
      ["short.bin", "external file 'short.bin' has 10 bytes, but offset 0 + length 64 runs past"],
      ["../etc/passwd", "external location '../etc/passwd' leaves the model's directory"],
    ];
    for (const [location, reason] of external) {
      const model = richModel();
      const w = model.graph?.initializer[0] as TensorProto;
      w.rawData = new Uint8Array(0);
      w.dataLocation = TensorProto_DataLocation.EXTERNAL;
      w.externalData = [create(StringStringEntryProtoSchema, { key: "location", value: location })];
      await Deno.writeFile(`${dir}/ext.onnx`, encodeModel(model));
      const ext = memoryIo();
      assert.equal(await main(["convert", `${dir}/ext.onnx`, `${dir}/o.onnx`], ext), 1);
      assert.ok(
        ext.stderr.text().startsWith(
          `error: Cannot read '${dir}/ext.onnx': cannot read tensor 'w': ${reason}`,
        ),
        ext.stderr.text(),
      );
      assert.ok(!(await exists(`${dir}/o.onnx`)), "nothing written on failure");
    }

    await Deno.writeFile(`${dir}/ok.onnx`, encodeModel(richModel()));
    // Missing folders are created, with or without external data.
    assert.equal(await main(["convert", `${dir}/ok.onnx`, `${dir}/new/dir/o.onnx`], memoryIo()), 0);
    assert.ok(await exists(`${dir}/new/dir/o.onnx`));
    // A parent that is a file cannot be a folder.
    const unwritable = memoryIo();
    assert.equal(await main(["convert", `${dir}/ok.onnx`, `${dir}/ok.onnx/o.onnx`], unwritable), 1);
    assert.match(unwritable.stderr.text(), /^error: Cannot write '.*\/ok\.onnx\/o\.onnx': /);
    assert.equal(unwritable.stderr.text().split("\n").length, 2, "one line, no stack");
  });
});

Deno.test("convert --help prints usage and the options", async () => {
  const io = memoryIo();
  assert.equal(await main(["convert", "-h"], io), 0);
  assert.match(io.stdout.text(), /^Usage: modelpress convert IN OUT/);
  assert.match(io.stdout.text(), /--external-data-threshold BYTES/);
});
