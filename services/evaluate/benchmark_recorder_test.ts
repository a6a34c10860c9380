// benchmarkRecorder() over real sockets: a local receiver standing in for the benchmark service,
// and the benchmark service itself on embedded PGlite.
import assert from "node:assert/strict";
import type { EvaluationReport } from "@modelpress/evaluate";
import { withServer } from "../../test/support/serve.ts";
import { createApp as createBenchmarkApp } from "../benchmark/app.ts";
import { withStore } from "../benchmark/_testing.ts";
import { benchmarkRecorder, type RunRecord } from "./benchmark_recorder.ts";
import { fakeReport } from "./_testing.ts";

const RUN: RunRecord = Object.freeze({
  id: "6f1c2e9a-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
  model: "mnist_mlp",
  recipe: { name: "int8-dynamic", quantize: { method: "dynamic" } },
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: "2026-01-01T00:00:05.000Z",
  tags: { source: "test" },
  reports: { quantize: { nodes: 3 } },
});

/** A report with accuracy, and outputs identical to the reference (an SQNR of Infinity). */
function report(): EvaluationReport {
  return {
    ...fakeReport(1234),
    accuracy: { top1: 0.875, topK: [], samples: 8 },
    fidelity: { logits: { top1Agreement: 1, cosineSimilarity: 1, sqnrDb: Infinity } },
  } as unknown as EvaluationReport;
}

interface Received {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | null;
  readonly body: Record<string, unknown>;
}

/** Serves `answer` while `fn` runs; `received` holds every request's JSON body. */
async function withReceiver(
  answer: (request: Request) => Response | Promise<Response>,
  fn: (base: string, received: Received[]) => Promise<void>,
): Promise<void> {
  const received: Received[] = [];
  await withServer({
    fetch: async (request) => {
      received.push({
        method: request.method,
        path: new URL(request.url).pathname,
        contentType: request.headers.get("content-type"),
        body: await request.json(),
      });
      return answer(request);
    },
  }, (base) => fn(base, received));
}

const ingested = (status: number, regressions = 0): Response =>
  Response.json({
    runs: [{ id: RUN.id, created: status === 201 }],
    regressions: Array.from({ length: regressions }, () => ({})),
  }, { status });

Deno.test("benchmarkRecorder() posts the run and answers created on 201", async () => {
  await withReceiver(() => ingested(201, 1), async (base, received) => {
    const outcome = await benchmarkRecorder(`${base}/`)(report(), RUN);
    assert.deepEqual(outcome, { runId: RUN.id, status: "created", regressions: 1 });
    assert.equal(received.length, 1);
    const request = received[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/v1/evaluations");
    assert.match(request.contentType ?? "", /^application\/json/);
    const { evaluation, ...rest } = request.body;
    assert.deepEqual(rest, {
      id: RUN.id,
      model: "mnist_mlp",
      recipe: { name: "int8-dynamic", quantize: { method: "dynamic" } },
      startedAt: RUN.startedAt,
      endedAt: RUN.endedAt,
      tags: { source: "test" },
      reports: { quantize: { nodes: 3 } },
    });
    const sent = evaluation as { size: { fileBytes: number }; fidelity: unknown };
    assert.equal(sent.size.fileBytes, 1234);
    // Infinity is kept as the evaluate service writes it, not turned into null.
    assert.deepEqual(sent.fidelity, {
      logits: { top1Agreement: 1, cosineSimilarity: 1, sqnrDb: "Infinity" },
    });
  });
});

Deno.test("benchmarkRecorder() sends an empty recipe when none is given", async () => {
  await withReceiver(() => ingested(201), async (base, received) => {
    const { recipe: _, tags: __, reports: ___, ...bare } = RUN;
    await benchmarkRecorder(base)(report(), bare);
    assert.deepEqual(received[0]?.body.recipe, {});
    assert.equal("tags" in (received[0]?.body ?? {}), false);
  });
});

Deno.test("benchmarkRecorder() answers replayed on 200", async () => {
  await withReceiver(() => ingested(200), async (base) => {
    const outcome = await benchmarkRecorder(base)(report(), RUN);
    assert.deepEqual(outcome, { runId: RUN.id, status: "replayed", regressions: 0 });
  });
});

Deno.test("benchmarkRecorder() rejects with the benchmark service's error on 409", async () => {
  const conflict = () =>
    Response.json({
      error: { code: "conflict", message: `Cannot store run '${RUN.id}': stored differently` },
    }, { status: 409 });
  await withReceiver(conflict, async (base) => {
    await assert.rejects(
      benchmarkRecorder(base)(report(), RUN),
      (e: Error) => {
        assert.equal(
          e.message,
          `Cannot record run '${RUN.id}' at ${base}/v1/evaluations: HTTP 409: conflict: ` +
            `Cannot store run '${RUN.id}': stored differently`,
        );
        return true;
      },
    );
  });
});

Deno.test("benchmarkRecorder() quotes a non-JSON error body and refuses an odd answer", async () => {
  await withReceiver(() => new Response("upstream down", { status: 502 }), async (base) => {
    await assert.rejects(benchmarkRecorder(base)(report(), RUN), /HTTP 502: upstream down$/);
  });
  await withReceiver(() => Response.json({ ok: true }, { status: 201 }), async (base) => {
    await assert.rejects(benchmarkRecorder(base)(report(), RUN), /unexpected answer \(HTTP 201\)/);
  });
});

Deno.test("benchmarkRecorder() rejects with a clear message when the service is unreachable", async () => {
  let closed = "";
  await withServer({ fetch: () => new Response() }, (base) => {
    closed = base;
    return Promise.resolve();
  });
  await assert.rejects(
    benchmarkRecorder(closed)(report(), RUN),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^Cannot record run '${RUN.id}' at ${closed}/v1/evaluations: ` +
            "the benchmark service is unreachable: ",
        ),
      );
      return true;
    },
  );
});

Deno.test("benchmarkRecorder() gives up after its timeout", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  await withReceiver(async () => {
    await held;
    return ingested(201);
  }, async (base) => {
    try {
      await assert.rejects(
        benchmarkRecorder(base, { timeoutMs: 100 })(report(), RUN),
        /: no answer within 100 ms$/,
      );
    } finally {
      release();
    }
  });
});

Deno.test("benchmarkRecorder() rejects with the signal's reason when aborted", async () => {
  const controller = new AbortController();
  const reason = new DOMException("The job was cancelled", "AbortError");
  await withReceiver(() => {
    controller.abort(reason);
    return new Promise<Response>((resolve) => setTimeout(() => resolve(ingested(201)), 50));
  }, async (base) => {
    await assert.rejects(
      benchmarkRecorder(base)(report(), RUN, { signal: controller.signal }),
      (e) => e === reason,
    );
  });
});

Deno.test("benchmarkRecorder() refuses a URL that is not http(s)", () => {
  assert.throws(() => benchmarkRecorder("ftp://example.com"), TypeError);
  assert.throws(() => benchmarkRecorder("not a url"), TypeError);
});

Deno.test("benchmarkRecorder() records runs the real benchmark service accepts", async () => {
  await withStore(async (store) => {
    const app = createBenchmarkApp({ store, dashboard: false });
    await withServer(app, async (base) => {
      const record = benchmarkRecorder(base);
      const created = await record(report(), RUN);
      assert.deepEqual(created, { runId: RUN.id, status: "created", regressions: 0 });
      const replayed = await record(report(), RUN);
      assert.equal(replayed.status, "replayed");
      await assert.rejects(
        record(report(), { ...RUN, tags: { source: "other" } }),
        /HTTP 409: /,
      );
      const res = await fetch(`${base}/v1/runs/${RUN.id}`);
      const run = await res.json();
      assert.equal(res.status, 200, JSON.stringify(run));
      assert.equal(run.model, "mnist_mlp");
      assert.equal(run.recipeName, "int8-dynamic");
      assert.deepEqual(run.recipeConfig, { quantize: { method: "dynamic" } });
      assert.equal(run.startedAt, RUN.startedAt);
      assert.equal(run.endedAt, RUN.endedAt);
      assert.deepEqual(run.tags, { source: "test" });
      assert.deepEqual(run.report, { quantize: { nodes: 3 } });
      const metrics = new Map(
        (run.metrics as { name: string; value: number }[]).map((m) => [m.name, m.value]),
      );
      assert.equal(metrics.get("accuracy"), 0.875);
      assert.equal(metrics.get("size_bytes"), 1234);
      assert.equal(metrics.get("fidelity_agreement.logits"), 1);
    });
  });
});
