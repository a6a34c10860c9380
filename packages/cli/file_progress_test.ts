import assert from "node:assert/strict";
import { memorySink } from "./cli_io.ts";
import { readFileWithProgress, writeFileWithProgress } from "./file_progress.ts";

Deno.test("writeFileWithProgress() writes parts in order and readFileWithProgress() reads them back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f.bin`;
    const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const b = Uint8Array.from({ length: 77 }, (_, i) => 255 - i);
    const written = await writeFileWithProgress(path, [a, b], { chunkBytes: 64 });
    assert.equal(written, 1077);
    const back = await readFileWithProgress(path, { chunkBytes: 100 });
    assert.deepEqual(back, new Uint8Array([...a, ...b]));
    assert.deepEqual(await Deno.readFile(path), back);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFileWithProgress() draws a bar on a terminal for files over minBytes only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f.bin`;
    await Deno.writeFile(path, new Uint8Array(4096));
    const tty = memorySink({ isTerminal: true });
    await readFileWithProgress(path, { progress: tty, minBytes: 1024, chunkBytes: 512 });
    assert.match(tty.text(), /read .*f\.bin \[/);
    assert.ok(tty.text().endsWith("\r\u001b[K"), "the bar's line is cleared at the end");

    const small = memorySink({ isTerminal: true });
    await readFileWithProgress(path, { progress: small, minBytes: 8192 });
    assert.equal(small.text(), "");

    const pipe = memorySink({ isTerminal: false });
    await writeFileWithProgress(path, new Uint8Array(4096), { progress: pipe, minBytes: 0 });
    assert.equal(pipe.text(), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFileWithProgress() reads an empty file and fails on a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty`, new Uint8Array(0));
    assert.equal((await readFileWithProgress(`${dir}/empty`)).length, 0);
    await assert.rejects(() => readFileWithProgress(`${dir}/missing`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
