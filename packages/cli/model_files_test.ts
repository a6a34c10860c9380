import assert from "node:assert/strict";
import { readModel } from "@modelpress/onnx";
import { withTempDir } from "../../test/support/temp_dir.ts";
import { memoryIo } from "./cli_io.ts";
import {
  type ModelCommandSummary,
  outputReport,
  parseModelCommand,
  readModelFile,
  readRecipeFile,
  resolveRecipe,
  writeModelFile,
  writeOutputs,
} from "./model_files.ts";
import { UsageError } from "./parse_args.ts";

const MLP_PATH = new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url).pathname;

Deno.test("readModelFile() reads a model with its size and node count; writeModelFile() writes it back", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const file = await readModelFile(MLP_PATH, io, "prune");
    assert.equal(file.inputBytes, (await Deno.stat(MLP_PATH)).size);
    assert.equal(file.mainNodes, file.model.graph?.node.length);
    assert.ok(file.mainNodes > 0);
    assert.ok(file.readMs >= 0);
    await writeModelFile(`${dir}/copy.onnx`, file.model, io);
    const copy = await readModel(`${dir}/copy.onnx`);
    assert.equal(copy.graph?.node.length, file.mainNodes);
  });
});

Deno.test("readModelFile() and writeModelFile() fail naming the file", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    await assert.rejects(
      readModelFile(`${dir}/none.onnx`, io, "quantize"),
      /^Error: Cannot quantize '.*none\.onnx'/,
    );
    await Deno.writeFile(`${dir}/bad.onnx`, new Uint8Array([0xff, 0xff, 0xff]));
    await assert.rejects(
      readModelFile(`${dir}/bad.onnx`, io, "prune"),
      /Cannot read '.*bad\.onnx'/,
    );
    const { model } = await readModelFile(MLP_PATH, io, "prune");
    await Deno.mkdir(`${dir}/out.onnx`);
    await assert.rejects(
      writeModelFile(`${dir}/out.onnx`, model, io),
      /Cannot write '.*out\.onnx'/,
    );
  });
});

Deno.test("readRecipeFile() parses JSON, fills in a flag's method, and names a file that is not JSON", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/r.json`, '{"sparsity":0.5}');
    assert.deepEqual(await readRecipeFile(`${dir}/r.json`, "magnitude"), {
      sparsity: 0.5,
      method: "magnitude",
    });
    await Deno.writeTextFile(`${dir}/m.json`, '{"method":"nm"}');
    assert.deepEqual(await readRecipeFile(`${dir}/m.json`, "magnitude"), { method: "nm" });
    assert.deepEqual(await readRecipeFile(`${dir}/r.json`, undefined), { sparsity: 0.5 });
    await Deno.writeTextFile(`${dir}/bad.json`, "{nope");
    await assert.rejects(
      readRecipeFile(`${dir}/bad.json`, undefined),
      /Cannot read recipe '.*bad\.json': not valid JSON: /,
    );
    await assert.rejects(readRecipeFile(`${dir}/none.json`, undefined), /Cannot read recipe/);
  });
});

Deno.test("outputReport() writes the JSON report and prints it only with json", async () => {
  await withTempDir(async (dir) => {
    const report = { schema: "x/1", n: 1 };
    const quiet = memoryIo();
    assert.equal(
      await outputReport(report, quiet, { reportPath: `${dir}/r.json`, json: false }),
      false,
    );
    assert.equal(quiet.stdout.text(), "");
    assert.equal(await Deno.readTextFile(`${dir}/r.json`), JSON.stringify(report, null, 2) + "\n");
    const loud = memoryIo();
    assert.equal(await outputReport(report, loud, { json: true }), true);
    assert.deepEqual(JSON.parse(loud.stdout.text()), report);
    await assert.rejects(
      outputReport(report, loud, { reportPath: `${dir}/no/r.json`, json: false }),
      /Cannot write report '.*r\.json'/,
    );
  });
});

Deno.test("parseModelCommand() reads the shared and own flags, prints help, and wants IN and -o OUT", () => {
  const spec = { verb: "prune", help: "Usage: x\n", boolean: ["global"], string: ["sparsity"] };
  const io = memoryIo();
  const args = ["a.onnx", "-o", "b.onnx", "--global", "--sparsity", "0.5", "--json"];
  const command = parseModelCommand([...args, "--recipe", "r.json"], io, spec);
  assert.equal(command?.input, "a.onnx");
  assert.equal(command?.output, "b.onnx");
  assert.ok(command?.parsed.booleans.has("global") && command.parsed.booleans.has("json"));
  assert.equal(command?.parsed.strings.get("sparsity"), "0.5");
  assert.equal(command?.parsed.strings.get("recipe"), "r.json");
  const help = memoryIo();
  assert.equal(parseModelCommand(["-h"], help, spec), undefined);
  assert.equal(help.stdout.text(), "Usage: x\n");
  assert.throws(() => parseModelCommand(["a.onnx"], io, spec), /Missing -o OUT/);
  assert.throws(() => parseModelCommand(["a.onnx", "--bits", "4"], io, spec), /Unknown option/);
});

Deno.test("resolveRecipe() wants a method, reads the file with the flag's method, and merges", async () => {
  const reads: unknown[] = [];
  const NO_FLAGS: { method?: string } = {};
  const options = {
    methods: "a or b",
    read: (path: string, method: string | undefined) => {
      reads.push([path, method]);
      return Promise.resolve({ from: path });
    },
    merge: (file: { from: string } | undefined, flags: { method?: string }) => ({
      ...file,
      ...flags,
    }),
  };
  await assert.rejects(
    resolveRecipe({ ...options, recipePath: undefined, flags: NO_FLAGS }),
    new UsageError("Missing --method: a or b (or a --recipe file that sets it)"),
  );
  assert.deepEqual(
    await resolveRecipe({ ...options, recipePath: undefined, flags: { method: "a" } }),
    {
      method: "a",
    },
  );
  assert.deepEqual(await resolveRecipe({ ...options, recipePath: "r.json", flags: NO_FLAGS }), {
    from: "r.json",
  });
  assert.deepEqual(reads, [["r.json", undefined]]);
});

Deno.test("writeOutputs() writes the model and report, then prints the summary or the JSON", async () => {
  await withTempDir(async (dir) => {
    const io = memoryIo();
    const file = await readModelFile(MLP_PATH, io, "prune");
    const summaries: unknown[] = [];
    const options = {
      file,
      report: { n: 1 },
      input: MLP_PATH,
      output: `${dir}/out.onnx`,
      reportPath: `${dir}/r.json`,
      workMs: 5,
      format: (report: { n: number }, summary: ModelCommandSummary): string => {
        summaries.push(summary);
        return `n=${report.n}\n`;
      },
    };
    assert.equal(await writeOutputs(io, { ...options, json: false }), 0);
    assert.equal(io.stdout.text(), "n=1\n");
    assert.ok(await Deno.stat(`${dir}/out.onnx`));
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/r.json`)), { n: 1 });
    const [summary] = summaries as ModelCommandSummary[];
    assert.equal(summary?.output, `${dir}/out.onnx`);
    assert.equal(summary?.inputBytes, file.inputBytes);
    assert.equal(summary?.workMs, 5);
    assert.equal(summary?.reportPath, `${dir}/r.json`);
    const json = memoryIo();
    assert.equal(await writeOutputs(json, { ...options, reportPath: undefined, json: true }), 0);
    assert.deepEqual(JSON.parse(json.stdout.text()), { n: 1 });
    assert.equal(summaries.length, 1);
  });
});
