import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  encodeModel,
  makeTensor,
  type ModelProto,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
} from "@modelpress/onnx";
import { memorySink } from "./cli_io.ts";
import { PROGRESS_MIN_BYTES } from "./file_progress.ts";
import {
  checkDataFileName,
  EXTERNAL_DATA_ALIGNMENT,
  loadModelFile,
  resolveLocation,
  saveModelFile,
} from "./model_files.ts";
import { richModel, runnableModel } from "./testdata/rich_model.ts";
import { runModel, runnableFeeds } from "./testdata/run_model.ts";

function entries(tensor: TensorProto | undefined): Record<string, string> {
  return Object.fromEntries(tensor?.externalData.map((e) => [e.key, e.value]) ?? []);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "modelpress_cli_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function withOddTensor(model: ModelProto): ModelProto {
  // 10 bytes: the tensor after it must start at the next multiple of the alignment.
  model.graph?.initializer.splice(1, 0, makeTensor("odd", new Uint8Array(10).fill(7)));
  return model;
}

Deno.test("saveModelFile() moves main-graph tensors at or over the threshold, aligned", async () => {
  await withTempDir(async (dir) => {
    const model = withOddTensor(richModel());
    const saved = await saveModelFile(`${dir}/m.onnx`, model, { externalDataThreshold: 8 });
    // w (64 B) at 0, odd (10 B) at 4096, big (4096 B) at 8192.
    const [w, odd, _b, big] = model.graph?.initializer ?? [];
    assert.deepEqual(entries(w), { location: "m.onnx.data", offset: "0", length: "64" });
    assert.deepEqual(entries(odd), { location: "m.onnx.data", offset: "4096", length: "10" });
    assert.deepEqual(entries(big), { location: "m.onnx.data", offset: "8192", length: "4096" });
    assert.equal(Number(entries(big).offset) % EXTERNAL_DATA_ALIGNMENT, 0);
    assert.equal(big?.dataLocation, TensorProto_DataLocation.EXTERNAL);
    assert.equal(big?.rawData.length, 0);
    assert.deepEqual(saved.externalFile, {
      location: "m.onnx.data",
      path: `${dir}/m.onnx.data`,
      bytes: 8192 + 4096,
      tensors: 3,
    });
    // b keeps float_data (16 B); t (8 B) is in the If's then_branch.
    assert.deepEqual(saved.keptInline, { typedFields: 1, subgraphs: 1 });
    const data = await Deno.readFile(`${dir}/m.onnx.data`);
    assert.deepEqual(data.subarray(4096, 4106), new Uint8Array(10).fill(7));
    assert.deepEqual(new Float32Array(data.slice(8192).buffer)[1023], 1023);
    assert.equal((await Deno.stat(`${dir}/m.onnx`)).size, saved.bytes);
  });
});

Deno.test("saveModelFile() then loadModelFile() with inlining gives back the same model bytes", async () => {
  await withTempDir(async (dir) => {
    const expected = encodeModel(withOddTensor(richModel()));
    const model = withOddTensor(richModel());
    await saveModelFile(`${dir}/m.onnx`, model, { externalDataThreshold: 1, location: "w.bin" });
    const lazy = await loadModelFile(`${dir}/m.onnx`);
    assert.equal(lazy.inlinedTensors, 0);
    assert.equal(lazy.model.graph?.initializer[0]?.dataLocation, TensorProto_DataLocation.EXTERNAL);

    const loaded = await loadModelFile(`${dir}/m.onnx`, { inlineExternalData: true });
    assert.equal(loaded.inlinedTensors, 4);
    // w, odd, big and the main Constant (int8 [2,3], 6 B at 3 * 4096).
    assert.deepEqual(loaded.externalFiles, [{ location: "w.bin", bytes: 3 * 4096 + 6 }]);
    assert.deepEqual(encodeModel(loaded.model), expected);
  });
});

Deno.test("loadModelFile() draws a progress bar while reading big external data", async () => {
  await withTempDir(async (dir) => {
    const big = makeTensor("big", new Uint8Array(PROGRESS_MIN_BYTES).fill(3));
    const model = richModel();
    model.graph?.initializer.push(big);
    await saveModelFile(`${dir}/m.onnx`, model, { externalDataThreshold: 1024 * 1024 });
    const tty = memorySink({ isTerminal: true });
    const loaded = await loadModelFile(`${dir}/m.onnx`, {
      inlineExternalData: true,
      progress: tty,
    });
    assert.equal(loaded.inlinedTensors, 1);
    assert.match(tty.text(), /\rread external data of \S+m\.onnx \[/);
    assert.equal(loaded.model.graph?.initializer.at(-1)?.rawData[PROGRESS_MIN_BYTES - 1], 3);
  });
});

Deno.test("saveModelFile() without a threshold writes everything inline and no data file", async () => {
  await withTempDir(async (dir) => {
    const saved = await saveModelFile(`${dir}/m.onnx`, richModel());
    assert.equal(saved.externalFile, null);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["m.onnx"]);
    assert.deepEqual(await Deno.readFile(`${dir}/m.onnx`), encodeModel(richModel()));
  });
});

Deno.test("saveModelFile() output with external data runs in onnxruntime-web like the original", async () => {
  await withTempDir(async (dir) => {
    const original = await runModel(encodeModel(runnableModel()), runnableFeeds());
    const model = runnableModel();
    const saved = await saveModelFile(`${dir}/r.onnx`, model, { externalDataThreshold: 1024 });
    // The Constant's value and the initializer w, 1 KiB each.
    assert.equal(saved.externalFile?.tensors, 2);
    const split = await runModel(await Deno.readFile(`${dir}/r.onnx`), runnableFeeds(), [
      { path: "r.onnx.data", data: await Deno.readFile(`${dir}/r.onnx.data`) },
    ]);
    assert.deepEqual(split, original);
    assert.equal(original.y?.[255], 256 + 255 / 8);
  });
});

Deno.test("saveModelFile() refuses a location with a folder part and writes nothing", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      () => saveModelFile(`${dir}/m.onnx`, richModel(), { location: "../x.data" }),
      RangeError,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("loadModelFile() reports a missing, short or escaping external data file", async () => {
  await withTempDir(async (dir) => {
    const make = async (location: string, length: string): Promise<string> => {
      const model = richModel();
      const w = model.graph?.initializer[0] as TensorProto;
      w.rawData = new Uint8Array(0);
      w.dataLocation = TensorProto_DataLocation.EXTERNAL;
      w.externalData = [
        create(StringStringEntryProtoSchema, { key: "location", value: location }),
        create(StringStringEntryProtoSchema, { key: "length", value: length }),
      ];
      const path = `${dir}/${crypto.randomUUID()}.onnx`;
      await Deno.writeFile(path, encodeModel(model));
      return path;
    };
    await assert.rejects(
      async () => loadModelFile(await make("gone.bin", "64"), { inlineExternalData: true }),
      new Deno.errors.NotFound("Cannot read tensor 'w': external file 'gone.bin' is missing"),
    );
    await Deno.writeFile(`${dir}/short.bin`, new Uint8Array(10));
    await assert.rejects(
      async () => loadModelFile(await make("short.bin", "64"), { inlineExternalData: true }),
      new RangeError(
        "Cannot read tensor 'w': external file 'short.bin' has 10 bytes, but offset 0 + " +
          "length 64 runs past its end",
      ),
    );
    await assert.rejects(
      async () => loadModelFile(await make("../etc/passwd", "64"), { inlineExternalData: true }),
      TypeError,
      "leaves the model's directory",
    );
  });
});

Deno.test("checkDataFileName() accepts plain file names only", () => {
  checkDataFileName("model.onnx.data");
  for (const bad of ["", ".", "..", "a/b", "a\\b", "/abs"]) {
    assert.throws(() => checkDataFileName(bad), RangeError, bad);
  }
});

Deno.test("resolveLocation() joins with the model's folder and refuses to leave it", () => {
  assert.equal(resolveLocation("models/a.onnx", "a.onnx.data"), "models/a.onnx.data");
  assert.equal(resolveLocation("a.onnx", "sub/../w.bin"), "w.bin");
  assert.throws(() => resolveLocation("models/a.onnx", "../x"), TypeError);
  assert.throws(() => resolveLocation("models/a.onnx", "/etc/passwd"), TypeError);
});
