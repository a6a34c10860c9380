import assert from "node:assert/strict";
import { ApiError } from "./api_error.ts";
import { readMultipart } from "./read_multipart.ts";

function request(form: FormData): Request {
  return new Request("http://x/", { method: "POST", body: form });
}

Deno.test("readMultipart() reads files and fields, whatever the chunking", async () => {
  const form = new FormData();
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
  form.set("model", new File([bytes], "m.onnx", { type: "application/octet-stream" }));
  form.set("recipe", '{"method":"dynamic"}');
  const original = request(form); // one request: each one gets a boundary of its own
  const contentType = original.headers.get("content-type")!;
  const whole = new Uint8Array(await original.arrayBuffer());
  // Feed the body in odd-sized chunks that split boundaries: the parser must keep tails.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < whole.length; i += 997) controller.enqueue(whole.slice(i, i + 997));
      controller.close();
    },
  });
  const parts = await readMultipart(
    new Request("http://x/", { method: "POST", body, headers: { "content-type": contentType } }),
    { maxBodyBytes: 1 << 20, partLimits: { model: 1 << 20, recipe: 1024 } },
  );
  assert.deepEqual(parts.map((p) => [p.name, p.filename]), [["model", "m.onnx"], [
    "recipe",
    undefined,
  ]]);
  assert.deepEqual(parts[0]?.bytes, bytes);
  assert.equal(new TextDecoder().decode(parts[1]?.bytes), '{"method":"dynamic"}');
});

Deno.test("readMultipart() throws 415 for another type and 413 for a part over its limit", async () => {
  await assert.rejects(
    readMultipart(new Request("http://x/", { method: "POST", body: "{}" }), {
      maxBodyBytes: 100,
      partLimits: {},
    }),
    (e) => e instanceof ApiError && e.status === 415,
  );
  const form = new FormData();
  form.set("model", new File([new Uint8Array(100)], "m.onnx"));
  await assert.rejects(
    readMultipart(request(form), { maxBodyBytes: 10_000, partLimits: { model: 99 } }),
    (e) => e instanceof ApiError && e.status === 413 && e.details?.part === "model",
  );
});
