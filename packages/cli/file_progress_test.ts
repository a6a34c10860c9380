import assert from "node:assert/strict";
import { readFileExact } from "@modelpress/onnx";
import { memorySink } from "./cli_io.ts";
import { FileProgress } from "./file_progress.ts";
import { withTempDir } from "../../test/support/temp_dir.ts";

Deno.test("FileProgress draws a bar on a terminal for totals of minBytes or more only", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/f.bin`;
    await Deno.writeFile(path, new Uint8Array(4096));
    const tty = memorySink({ isTerminal: true });
    {
      using progress = new FileProgress(tty, `read ${path}`, { minBytes: 1024 });
      await readFileExact(path, { onProgress: progress.onProgress });
    }
    assert.match(tty.text(), /^\rread .*f\.bin \[=+\] 100%/);
    assert.ok(tty.text().endsWith("\r\u001b[K"), "the bar's line is cleared when disposed");

    const small = memorySink({ isTerminal: true });
    {
      using progress = new FileProgress(small, "read", { minBytes: 8192 });
      await readFileExact(path, { onProgress: progress.onProgress });
    }
    assert.equal(small.text(), "");

    const pipe = memorySink({ isTerminal: false });
    {
      using progress = new FileProgress(pipe, "read", { minBytes: 0 });
      await readFileExact(path, { onProgress: progress.onProgress });
    }
    assert.equal(pipe.text(), "");
  });
});

Deno.test("FileProgress starts a new bar when the total changes, and clears the old one", () => {
  const tty = memorySink({ isTerminal: true, columns: 80 });
  {
    using progress = new FileProgress(tty, "write", { minBytes: 1024 });
    progress.onProgress(1024, 2048);
    progress.onProgress(2048, 4096);
  }
  const draws = tty.text().split("\r").filter((s) => s.startsWith("write"));
  assert.equal(draws.length, 2);
  assert.match(draws[0] ?? "", /50%\s+1\.00 KiB \/ 2\.00 KiB/);
  assert.match(draws[1] ?? "", /50%\s+2\.00 KiB \/ 4\.00 KiB/);
  assert.equal(tty.text().split("\r\u001b[K").length - 1, 2, "each bar is cleared once");
});
