import assert from "node:assert/strict";
import { reportFromJson } from "@modelpress/evaluate";
import { memoryIo } from "../cli_io.ts";
import { main } from "../main.ts";
import { withTempDir } from "../../../test/support/temp_dir.ts";

const MLP = new URL("../../../test/fixtures/mnist_mlp.onnx", import.meta.url).pathname;

Deno.test("eval prints accuracy, fidelity, latency and size tables", async () => {
  const io = memoryIo();
  const code = await main(
    [
      "eval",
      MLP,
      "--dataset",
      "mnist",
      "--reference",
      MLP,
      "--limit",
      "200",
      "--latency-runs",
      "4",
    ],
    io,
  );
  assert.equal(code, 0, io.stderr.text());
  assert.equal(io.stderr.text(), "", "no progress bar when stderr is not a terminal");
  const out = io.stdout.text();
  const lines = out.split("\n");
  assert.ok(lines.includes("Dataset    mnist: 200 of 2,000 samples, batch 100"), out);
  assert.match(out, /^ {2}top-1 +\d+\.\d\d% +\d+ \/ 200$/m);
  assert.match(out, /^ {2}logits +100\.00% +1\.000000 +0 +0 +inf +0$/m);
  assert.match(out, /^Latency \(4 runs of batch 1 after 3 warm-up\)$/m);
  assert.match(out, /^ {2}parameters +235,146 /m);
  assert.ok(lines.every((line) => line === line.trimEnd()), "no trailing spaces");
});

Deno.test("eval --json prints the report, stable field for field", async () => {
  const args = ["eval", MLP, "--dataset", "mnist", "--limit", "100", "--latency-runs", "0"];
  const first = memoryIo();
  assert.equal(await main([...args, "--json", "--reference", MLP], first), 0);
  const report = reportFromJson(first.stdout.text());
  assert.equal(report.dataset?.evaluated, 100);
  assert.equal(report.latency, undefined, "--latency-runs 0 skips latency");
  assert.equal(report.fidelity?.logits?.top1Agreement, 1);
  assert.equal(report.fidelity?.logits?.sqnrDb, Infinity);
  assert.match(first.stdout.text(), /"sqnrDb": "Infinity"/);
  assert.ok(first.stdout.text().endsWith("}\n"));
  const second = memoryIo();
  assert.equal(await main([...args, "--json", "--reference", MLP], second), 0);
  const strip = (text: string): unknown => {
    const r = JSON.parse(text);
    delete r.timings; // wall-clock times differ from run to run
    return r;
  };
  assert.deepEqual(strip(second.stdout.text()), strip(first.stdout.text()));
});

Deno.test("eval draws a progress bar on a terminal, then clears it", async () => {
  const io = memoryIo({ isTerminal: true, columns: 80 });
  assert.equal(await main(["eval", MLP, "--dataset", "mnist", "--latency-runs", "0"], io), 0);
  assert.match(io.stderr.text(), /\raccuracy \[/);
  assert.ok(io.stderr.text().endsWith("\r\u001b[K"), JSON.stringify(io.stderr.text().slice(-20)));
});

Deno.test("eval exits 2 on wrong usage, naming the problem", async () => {
  const cases: [string[], RegExp][] = [
    [["eval"], /Missing MODEL/],
    [["eval", MLP], /Missing --dataset/],
    [["eval", MLP, "--dataset", "mnist", "--limit", "0"], /'--limit' needs a whole number >= 1/],
    [["eval", MLP, "--dataset", "mnist", "--latency-runs", "x"], /'--latency-runs'/],
    [["eval", MLP, "--dataset", "mnist", "--fast"], /Unknown option '--fast'/],
  ];
  for (const [args, message] of cases) {
    const io = memoryIo();
    assert.equal(await main(args, io), 2, args.join(" "));
    assert.match(io.stderr.text(), message);
    assert.match(io.stderr.text(), /Usage: modelpress eval MODEL/);
  }
});

Deno.test("eval exits 1 with one clear line for missing files and invalid models or datasets", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/bad.onnx`, new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff]));
    await Deno.writeTextFile(`${dir}/bad.npz`, "not a zip");
    const cases: [string[], RegExp][] = [
      [
        ["eval", `${dir}/none.onnx`, "--dataset", "mnist"],
        /^error: Cannot evaluate '.*none\.onnx': file not found\n$/,
      ],
      [
        ["eval", `${dir}/bad.onnx`, "--dataset", "mnist"],
        /^error: Cannot evaluate '.*bad\.onnx': not a valid ONNX model \(at byte \d+: /,
      ],
      [["eval", MLP, "--dataset", `${dir}/bad.npz`], /^error: Cannot read dataset '.*bad\.npz': /],
      [
        ["eval", MLP, "--dataset", "mnist", "--reference", `${dir}/none.onnx`],
        /none\.onnx': file not found/,
      ],
    ];
    for (const [args, message] of cases) {
      const io = memoryIo();
      assert.equal(await main(args, io), 1, args.join(" "));
      assert.match(io.stderr.text(), message);
      assert.equal(io.stdout.text(), "");
    }
  });
});

Deno.test("modelpress --help lists eval; eval --help shows its options", async () => {
  const io = memoryIo();
  assert.equal(await main(["--help"], io), 0);
  assert.match(io.stdout.text(), /^ {2}eval +Evaluate a model/m);
  const help = memoryIo();
  assert.equal(await main(["eval", "--help"], help), 0);
  assert.match(help.stdout.text(), /--latency-runs N/);
});
