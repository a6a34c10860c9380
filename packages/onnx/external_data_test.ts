import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { join } from "node:path";
import {
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType as T,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { makeGraph, makeModel, makeNode } from "./build.ts";
import {
  checkExternalData,
  checkLocation,
  externalDataInfo,
  loadExternalData,
  readExternalData,
} from "./external_data.ts";
import { tensorData } from "./tensor.ts";
import { withTempDir } from "../../test/support/temp_dir.ts";

function external(name: string, dims: number[], entries: Record<string, string>): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dataType: T.FLOAT,
    dims: dims.map(BigInt),
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) =>
      create(StringStringEntryProtoSchema, { key, value })
    ),
  });
}

/** A side file holding float32 0, 1, 2, ... 15 (64 bytes). */
async function sideFile(dir: string, name = "w.data"): Promise<void> {
  const values = Float32Array.from({ length: 16 }, (_, i) => i);
  await Deno.writeFile(join(dir, name), new Uint8Array(values.buffer));
}

Deno.test("externalDataInfo() parses location, offset, length and checksum", () => {
  assert.deepEqual(
    externalDataInfo(external("w", [2, 2], { location: "w.data", offset: "32", length: "16" })),
    { location: "w.data", offset: 32, length: 16 },
  );
  // offset defaults to 0, length to the tensor's size; unknown keys are ignored.
  assert.deepEqual(
    externalDataInfo(external("w", [3], { location: "d/w.data", checksum: "abc", basepath: "x" })),
    { location: "d/w.data", offset: 0, length: 12, checksum: "abc" },
  );
});

Deno.test("externalDataInfo() rejects missing, absolute and escaping locations", () => {
  assert.throws(
    () => externalDataInfo(external("w1", [1], {})),
    new TypeError("Cannot read tensor 'w1': external_data has no 'location'"),
  );
  assert.throws(
    () => externalDataInfo(external("w1", [1], { location: "/etc/passwd" })),
    new TypeError(
      "Cannot read tensor 'w1': external location '/etc/passwd' is absolute; it must be relative " +
        "to the model's directory",
    ),
  );
  for (const location of ["C:\\w.data", "\\\\server\\share\\w", "c:w.data"]) {
    assert.throws(() => externalDataInfo(external("w", [1], { location })), /is absolute/);
  }
  for (const location of ["../w.data", "a/../../w.data", "a\\..\\..\\w.data", ".."]) {
    assert.throws(
      () => externalDataInfo(external("w", [1], { location })),
      new TypeError(
        `Cannot read tensor 'w': external location '${location}' leaves the model's directory`,
      ),
    );
  }
  // Going down and back up inside the directory is fine.
  assert.equal(
    externalDataInfo(external("w", [1], { location: "a/../w.data" })).location,
    "a/../w.data",
  );
});

Deno.test("externalDataInfo() rejects bad numbers, a wrong length and inline tensors", () => {
  assert.throws(
    () => externalDataInfo(external("w", [1], { location: "w.data", offset: "12a" })),
    new TypeError("Cannot read tensor 'w': external offset '12a' is not a non-negative integer"),
  );
  assert.throws(
    () => externalDataInfo(external("w", [1], { location: "w.data", offset: "-4" })),
    TypeError,
  );
  assert.throws(
    () => externalDataInfo(external("w", [3, 4], { location: "w.data", length: "40" })),
    new RangeError(
      "Cannot read tensor 'w': external length 40 does not match its dims [3, 4], which need 48 bytes",
    ),
  );
  const inline = create(TensorProtoSchema, { name: "w", dataType: T.FLOAT, dims: [1n] });
  assert.throws(() => externalDataInfo(inline), TypeError);
});

Deno.test("checkLocation() accepts nested relative paths and rejects the rest", () => {
  checkLocation("Cannot write model", "weights/model.data");
  checkLocation("Cannot write model", "./model.data");
  assert.throws(
    () => checkLocation("Cannot write model", ""),
    new TypeError("Cannot write model: external location '' is not a file name"),
  );
  assert.throws(() => checkLocation("Cannot write model", "/tmp/x"), TypeError);
});

Deno.test("readExternalData() reads only the tensor's range", async () => {
  await withTempDir(async (dir) => {
    await sideFile(dir);
    const t = external("w", [2, 2], { location: "w.data", offset: "32" });
    const bytes = await readExternalData(t, { baseDir: dir });
    assert.deepEqual(new Float32Array(bytes.buffer), new Float32Array([8, 9, 10, 11]));
    assert.equal(t.dataLocation, TensorProto_DataLocation.EXTERNAL, "the tensor is unchanged");
  });
});

Deno.test("readExternalData() needs a base directory for tensors not read by readModel()", async () => {
  await assert.rejects(
    () => readExternalData(external("w", [1], { location: "w.data" })),
    /^TypeError: Cannot read tensor 'w': its external data have no known base directory/,
  );
});

Deno.test("loadExternalData() fills raw_data of every external tensor in a model", async () => {
  await withTempDir(async (dir) => {
    await sideFile(dir);
    await Deno.mkdir(join(dir, "sub"));
    await sideFile(dir, "sub/v.data");
    const a = external("a", [2], { location: "w.data", offset: "4", length: "8" });
    const b = external("b", [3], { location: "sub/v.data", offset: "52" });
    const c = external("c", [1], { location: "w.data" });
    const model = makeModel(makeGraph("g", {
      initializers: [a],
      nodes: [
        makeNode("If", {
          attributes: {
            then_branch: makeGraph("then", {
              nodes: [makeNode("Constant", { outputs: ["k"], attributes: { value: b } })],
            }),
          },
        }),
      ],
    }));
    model.graph!.initializer.push(c);
    await loadExternalData(model, { baseDir: dir });
    assert.deepEqual(tensorData(a), new Float32Array([1, 2]));
    assert.deepEqual(tensorData(b), new Float32Array([13, 14, 15]));
    assert.deepEqual(tensorData(c), new Float32Array([0]));
    for (const t of [a, b, c]) {
      assert.equal(t.dataLocation, TensorProto_DataLocation.DEFAULT);
      assert.deepEqual(t.externalData, []);
    }
  });
});

Deno.test("loadExternalData() names the tensor and file when the side file is missing", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      () => loadExternalData(external("w1", [1], { location: "x.data" }), { baseDir: dir }),
      new Deno.errors.NotFound("Cannot read tensor 'w1': external file 'x.data' is missing"),
    );
  });
});

Deno.test("loadExternalData() rejects a range past the end of the side file", async () => {
  await withTempDir(async (dir) => {
    await sideFile(dir);
    const t = external("w", [4], { location: "w.data", offset: "60" });
    await assert.rejects(
      () => loadExternalData(t, { baseDir: dir }),
      new RangeError(
        "Cannot read tensor 'w': external file 'w.data' has 64 bytes, but offset 60 + length 16 " +
          "runs past its end",
      ),
    );
    assert.equal(t.dataLocation, TensorProto_DataLocation.EXTERNAL, "the tensor is unchanged");
  });
});

Deno.test("checkExternalData() rejects a symbolic link that leaves the model's directory", async () => {
  await withTempDir(async (outside) => {
    await sideFile(outside, "secret.data");
    await withTempDir(async (dir) => {
      await Deno.symlink(join(outside, "secret.data"), join(dir, "w.data"));
      const model = makeModel(makeGraph("g", {
        initializers: [external("w", [1], { location: "w.data" })],
      }));
      await assert.rejects(
        () => checkExternalData(model, { baseDir: dir }),
        new TypeError(
          "Cannot read tensor 'w': external location 'w.data' leaves the model's directory " +
            "through a symbolic link",
        ),
      );
    });
  });
});
