import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ModelProto,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType as T,
} from "./_gen/onnx_pb.ts";
import { makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from "./build.ts";
import { decodeModel, encodeModel } from "./codec.ts";
import { type ExternalDataInfo, externalDataInfo, readExternalData } from "./external_data.ts";
import { mapModelTensors, modelTensors } from "./model_tensors.ts";
import { readModel } from "./read_model.ts";
import { type TensorArray, tensorByteLength, tensorData } from "./tensor.ts";
import { writeModel } from "./write_model.ts";
import { runModel } from "../../test/support/run_model.ts";
import { readSilero, sileroFeeds } from "../../test/support/silero.ts";
import { withTempDir } from "../../test/support/temp_dir.ts";

function bytes(t: Parameters<typeof tensorData>[0]): Uint8Array {
  const data = tensorData(t) as TensorArray;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function assertSameTensors(actual: ModelProto, expected: ModelProto): void {
  const a = modelTensors(actual);
  const e = modelTensors(expected);
  assert.equal(a.length, e.length);
  for (let i = 0; i < e.length; i++) {
    assert.equal(a[i]!.name, e[i]!.name);
    assert.equal(a[i]!.dataType, e[i]!.dataType);
    assert.deepEqual(a[i]!.dims, e[i]!.dims);
    assert.deepEqual(bytes(a[i]!), bytes(e[i]!), e[i]!.name);
  }
}

/** Every tensor of the written model file that is external: its entries. */
async function externalEntries(
  path: string,
): Promise<(ExternalDataInfo & { tensor: TensorProto })[]> {
  const written = decodeModel(await Deno.readFile(path));
  return modelTensors(written)
    .filter((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL)
    .map((t) => ({ tensor: t, ...externalDataInfo(t) }));
}

for (const [version, kinds] of [["legacy", ["initializer"]], ["v5", ["attribute"]]] as const) {
  Deno.test(`writeModel() with threshold 1024 round-trips Silero VAD ${version} (${kinds[0]} tensors) through a side file`, async () => {
    const original = await readSilero(version);
    const expected = await runModel(original, sileroFeeds(version));
    await withTempDir(async (dir) => {
      const path = join(dir, "model.onnx");
      await writeModel(path, original, {
        externalDataThreshold: 1024,
        externalKinds: kinds,
        externalSubgraphTensors: true,
      });

      const side = await Deno.stat(join(dir, "model.onnx.data"));
      const entries = await externalEntries(path);
      const big: TensorProto[] = [];
      mapModelTensors(original, (t, site) => {
        if (site.kind === kinds[0] && tensorByteLength(t) >= 1024) big.push(t);
        return t;
      });
      assert.ok(big.length > 0);
      assert.equal(entries.length, big.length, "every tensor of 1 KiB or more is external");
      for (const e of entries) {
        assert.equal(e.location, "model.onnx.data");
        assert.equal(e.offset % 4096, 0, `${e.tensor.name} is aligned`);
        assert.ok(e.offset + e.length <= side.size);
      }
      assert.ok((await Deno.stat(path)).size < 200_000, "the model file keeps only small tensors");

      const back = await readModel(path);
      assertSameTensors(back, original);
      assert.deepEqual(await runModel(back, sileroFeeds(version)), expected);
    });
  });
}

Deno.test("writeModel() by default moves only main-graph tensors, and onnxruntime-web runs the result", async () => {
  const original = await readSilero("legacy");
  const expected = await runModel(original, sileroFeeds("legacy"));
  await withTempDir(async (dir) => {
    const path = join(dir, "model.onnx");
    const progress: number[] = [];
    const result = await writeModel(path, original, {
      externalDataThreshold: 1024,
      externalKinds: ["initializer", "attribute"],
      onProgress: (done, total) => progress.push(done / total),
    });
    const mainBig: TensorProto[] = [];
    const subgraphBig: TensorProto[] = [];
    mapModelTensors(original, (t, site) => {
      if (tensorByteLength(t) >= 1024) (site.inMainGraph ? mainBig : subgraphBig).push(t);
      return t;
    });
    const entries = await externalEntries(path);
    assert.equal(entries.length, mainBig.length);
    assert.ok(subgraphBig.length > 0, "silero legacy keeps big tensors in its If branches");
    assert.equal(result.external?.tensors, mainBig.length);
    assert.equal(result.external?.bytes, (await Deno.stat(join(dir, "model.onnx.data"))).size);
    assert.equal(result.modelBytes, (await Deno.stat(path)).size);
    assert.equal(progress.at(-1), 1);
    assert.ok(progress.every((p, i) => p <= 1 && (i === 0 || p >= progress[i - 1]! || p === 1)));
    // onnxruntime-web loads main-graph external data handed to it by location.
    const data = await Deno.readFile(join(dir, "model.onnx.data"));
    const got = await runModel(await Deno.readFile(path), sileroFeeds("legacy"), {
      externalData: [{ path: "model.onnx.data", data }],
    });
    assert.deepEqual(got, expected);
  });
});

function smallModel(): ModelProto {
  return makeModel(makeGraph("small", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["h"] }),
      makeNode("Add", { inputs: ["h", "b"], outputs: ["y"] }),
    ],
    inputs: [makeValueInfo("x", T.FLOAT, { shape: [1, 64] })],
    outputs: [makeValueInfo("y", T.FLOAT, { shape: [1, 100] })],
    initializers: [
      makeTensor("w", Float32Array.from({ length: 6400 }, (_, i) => (i % 13) - 6), {
        dims: [64, 100],
      }),
      makeTensor("b", Float32Array.from({ length: 100 }, (_, i) => i / 10)),
    ],
  }));
}

Deno.test("writeModel() does not change the caller's model", async () => {
  const model = smallModel();
  const before = encodeModel(model);
  await withTempDir(async (dir) => {
    await writeModel(join(dir, "m.onnx"), model, { externalDataThreshold: 0 });
  });
  assert.deepEqual(encodeModel(model), before);
  assert.equal(model.graph!.initializer[0]!.dataLocation, TensorProto_DataLocation.DEFAULT);
});

Deno.test("writeModel() honours location and align, and writes inline without a threshold", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "m.onnx");
    await writeModel(path, smallModel(), {
      externalDataThreshold: 100,
      location: "weights/m.bin",
      align: 64,
    });
    const entries = await externalEntries(path);
    assert.deepEqual(entries.map((e) => [e.tensor.name, e.location, e.offset, e.length]), [
      ["w", "weights/m.bin", 0, 25600],
      ["b", "weights/m.bin", 25600, 400],
    ]);
    assert.equal((await Deno.stat(join(dir, "weights/m.bin"))).size, 26000);

    const inlinePath = join(dir, "inline.onnx");
    await writeModel(inlinePath, await readModel(path, { externalData: "lazy" }));
    assert.deepEqual(await externalEntries(inlinePath), []);
    assertSameTensors(decodeModel(await Deno.readFile(inlinePath)), smallModel());
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "inline.onnx",
      "m.onnx",
      "weights",
    ]);
  });
});

Deno.test("writeModel() copies lazily read external tensors, even over their own files", async () => {
  await withTempDir(async (dir) => {
    const first = join(dir, "a", "m.onnx");
    await Deno.mkdir(join(dir, "a"));
    await writeModel(first, smallModel(), { externalDataThreshold: 1000 });
    const lazy = await readModel(first, { externalData: "lazy" });
    assert.equal(lazy.graph!.initializer[0]!.dataLocation, TensorProto_DataLocation.EXTERNAL);
    assert.throws(() => tensorData(lazy.graph!.initializer[0]!), /not loaded/);

    // Elsewhere, with a smaller threshold: "b" now goes out too.
    const second = join(dir, "m2.onnx");
    await writeModel(second, lazy, { externalDataThreshold: 10, align: 16 });
    assert.deepEqual((await externalEntries(second)).map((e) => e.tensor.name), ["w", "b"]);
    // Over the files it was read from: sources are read before the files are replaced.
    await writeModel(first, lazy, { externalDataThreshold: 10 });
    for (const path of [first, second]) assertSameTensors(await readModel(path), smallModel());
    assert.deepEqual([...Deno.readDirSync(join(dir, "a"))].map((e) => e.name).sort(), [
      "m.onnx",
      "m.onnx.data",
    ]);
  });
});

Deno.test("readModel() names the tensor and file when a side file is missing or short", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "m.onnx");
    await writeModel(path, smallModel(), { externalDataThreshold: 1000, location: "x.data" });
    const side = join(dir, "x.data");
    const data = await Deno.readFile(side);

    await Deno.writeFile(side, data.subarray(0, 1000));
    for (const externalData of ["load", "lazy"] as const) {
      await assert.rejects(
        () => readModel(path, { externalData }),
        new RangeError(
          "Cannot read tensor 'w': external file 'x.data' has 1000 bytes, but offset 0 + length " +
            "25600 runs past its end",
        ),
      );
    }
    await Deno.remove(side);
    for (const externalData of ["load", "lazy"] as const) {
      await assert.rejects(
        () => readModel(path, { externalData }),
        new Deno.errors.NotFound("Cannot read tensor 'w': external file 'x.data' is missing"),
      );
    }
  });
});

Deno.test("writeModel() rejects locations outside the model's directory", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "m.onnx");
    for (const location of ["/tmp/x.data", "../x.data", "m.onnx"]) {
      await assert.rejects(
        () => writeModel(path, smallModel(), { externalDataThreshold: 0, location }),
        TypeError,
        location,
      );
    }
    await assert.rejects(() => writeModel(path, smallModel(), { align: 0 }), RangeError);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written");
  });
});

const MIB = 1 << 20;

Deno.test({
  name: "writeModel() writes a model whose tensors total over 2 GiB, streaming the side file",
  // About 2.1 GB of disk for a few seconds; the memory stays near the 64 MiB buffer.
  fn: async () => {
    // One 64 MiB buffer whose 32-bit words count up, so every view into it has distinct bytes.
    const shared = new Uint32Array(16 * MIB).map((_, i) => i);
    const count = 44;
    const elements = 12 * MIB; // 48 MiB per tensor; 44 of them are 2112 MiB
    const tensors = Array.from(
      { length: count },
      (_, i) =>
        makeTensor(`t${i}`, new Float32Array(shared.buffer, i * 256 * 1024, elements), {
          dims: [3 * 1024, 4 * 1024],
        }),
    );
    const model = makeModel(makeGraph("huge", { initializers: tensors }));
    const total = tensors.reduce((sum, t) => sum + tensorByteLength(t), 0);
    assert.ok(total > 2 ** 31, `${total} bytes is over 2 GiB`);

    await withTempDir(async (dir) => {
      const path = join(dir, "huge.onnx");
      const rssBefore = Deno.memoryUsage().rss;
      await writeModel(path, model, { externalDataThreshold: 1024 });
      const rssGrowth = Deno.memoryUsage().rss - rssBefore;
      assert.ok(rssGrowth < 512 * MIB, `memory grew by ${rssGrowth} bytes`);

      assert.equal((await Deno.stat(join(dir, "huge.onnx.data"))).size, total);
      assert.ok((await Deno.stat(path)).size < 64 * 1024);

      const back = await readModel(path, { externalData: "lazy" });
      const last = back.graph!.initializer[count - 1]!;
      assert.equal(
        externalDataInfo(last).offset,
        (count - 1) * 48 * MIB,
        "offsets past 2^31 survive",
      );
      for (const i of [0, 21, count - 1]) {
        const read = new Uint32Array((await readExternalData(back.graph!.initializer[i]!)).buffer);
        const expected = shared.subarray(i * 64 * 1024, i * 64 * 1024 + elements);
        assert.equal(read.length, expected.length);
        assert.equal(read[0], i * 64 * 1024);
        let same = true;
        for (let k = 0; k < read.length; k++) if (read[k] !== expected[k]) same = false;
        assert.ok(same, `tensor t${i} reads back intact`);
      }
    });
  },
});
