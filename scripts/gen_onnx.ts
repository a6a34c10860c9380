/**
 * Regenerates packages/onnx/_gen/onnx_pb.ts from packages/onnx/proto/onnx.proto with buf and
 * protoc-gen-es (both from npm, pinned in deno.json), then formats nothing: generated code is
 * committed as the generator wrote it.
 *
 * Run: `deno task gen:onnx`
 * @module
 */

const root = new URL("../", import.meta.url).pathname;
const bufBin =
  `${root}node_modules/.deno/@bufbuild+buf-linux-x64@1.75.0/node_modules/@bufbuild/buf-linux-x64/bin/buf`;
const plugin = `${root}node_modules/.bin/protoc-gen-es`;

const template = JSON.stringify({
  version: "v2",
  plugins: [{
    local: plugin,
    out: "packages/onnx/_gen",
    opt: ["target=ts", "import_extension=.ts"],
  }],
});

async function main(): Promise<void> {
  for (const path of [bufBin, plugin]) {
    try {
      await Deno.stat(path);
    } catch {
      throw new Error(`Cannot generate: ${path} is missing; run 'deno install' first`);
    }
  }
  const cmd = new Deno.Command(bufBin, {
    args: ["generate", "packages/onnx/proto", "--template", template],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) throw new Error(`buf generate failed with exit code ${code}`);
  console.log("wrote packages/onnx/_gen/onnx_pb.ts");
}

if (import.meta.main) await main();
