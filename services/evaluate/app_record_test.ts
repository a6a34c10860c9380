// The `record` field: a finished evaluation recorded through the injected recorder.
import assert from "node:assert/strict";
import type { EvaluationReport } from "@modelpress/evaluate";
import { assertCancels, type ErrorBody, errorOf } from "../../test/support/service_checks.ts";
import type { RecordedRun, Recorder, RecordOptions, RunRecord } from "./benchmark_recorder.ts";
import { appWith, controlledEvaluator, MLP_PATH, PATH, pollUntil, post } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);
const RUN_ID = "6f1c2e9a-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
/** A `record` field with every field given. */
const RECORD = {
  id: RUN_ID,
  model: "mnist_mlp",
  recipe: { name: "int8-dynamic", quantize: { method: "dynamic" } },
  tags: { source: "test" },
  params: { bits: 8 },
  commit: "abc123",
  branch: "main",
  reports: { quantize: { nodes: 3 } },
};

interface RecordCall {
  readonly report: EvaluationReport;
  readonly run: RunRecord;
  readonly options: RecordOptions | undefined;
}

interface FakeRecorder {
  readonly record: Recorder;
  readonly calls: RecordCall[];
}

/** A recorder that remembers its calls and answers with `answer` (or throws what it throws). */
function fakeRecorder(
  answer: (run: RunRecord, options: RecordOptions | undefined) => Promise<RecordedRun> = (
    run,
  ) => Promise.resolve({ runId: run.id, status: "created", regressions: 0 }),
): FakeRecorder {
  const calls: RecordCall[] = [];
  return {
    calls,
    record: (report, run, options) => {
      calls.push({ report, run, options });
      return answer(run, options);
    },
  };
}

interface EvaluationBody {
  id: string;
  status: string;
  result?: {
    size: { fileBytes: number };
    recorded?: { runId: string; status?: string; regressions?: number; error?: string };
  };
  error?: ErrorBody["error"];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("POST /v1/evaluations with record calls the recorder with the report and the run", async () => {
  const recorder = fakeRecorder(() =>
    Promise.resolve({ runId: RUN_ID, status: "created", regressions: 2 })
  );
  const app = appWith({ record: recorder.record });
  const before = new Date().toISOString();
  const res = await post(app, {
    model: MLP,
    dataset: "mnist",
    options: { limit: 10 },
    record: RECORD,
  });
  const after = new Date().toISOString();
  const body = await res.json() as EvaluationBody;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  assert.equal(body.result?.size.fileBytes, MLP.length);
  assert.deepEqual(body.result?.recorded, { runId: RUN_ID, status: "created", regressions: 2 });

  assert.equal(recorder.calls.length, 1);
  const call = recorder.calls[0]!;
  assert.equal(call.report.size.fileBytes, MLP.length);
  assert.equal("recorded" in call.report, false, "the report recorded is the evaluation's own");
  const { startedAt, endedAt, ...run } = call.run;
  assert.deepEqual(run, RECORD, "every field of the record, as given");
  assert.ok(
    before <= startedAt && startedAt <= endedAt && endedAt <= after,
    `${startedAt}..${endedAt}`,
  );
  assert.ok(call.options?.signal instanceof AbortSignal);
});

Deno.test("POST /v1/evaluations with record gives each run a new UUID unless one is given", async () => {
  const recorder = fakeRecorder();
  const app = appWith({ record: recorder.record });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await post(app, { model: MLP, dataset: "mnist", record: { model: "m" } });
    const body = await res.json() as EvaluationBody;
    assert.equal(res.status, 200, JSON.stringify(body));
    const runId = body.result?.recorded?.runId ?? "";
    assert.match(runId, UUID);
    assert.equal(recorder.calls[i]?.run.id, runId);
    assert.equal(recorder.calls[i]?.run.recipe, undefined);
    ids.push(runId);
  }
  assert.notEqual(ids[0], ids[1]);
});

Deno.test("POST /v1/evaluations without record neither records nor adds recorded", async () => {
  const recorder = fakeRecorder();
  const res = await post(appWith({ record: recorder.record }), { model: MLP, dataset: "mnist" });
  const body = await res.json() as EvaluationBody;
  assert.equal(res.status, 200);
  assert.equal(body.result?.recorded, undefined);
  assert.equal(recorder.calls.length, 0);
});

Deno.test("POST /v1/evaluations with record succeeds and reports a recorder failure", async () => {
  const recorder = fakeRecorder((run) =>
    Promise.reject(new Error(`Cannot record run '${run.id}' at x: HTTP 409: conflict`))
  );
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.join(" "));
  let res: Response;
  try {
    res = await post(appWith({ record: recorder.record }), {
      model: MLP,
      dataset: "mnist",
      record: { model: "m", id: RUN_ID },
    });
  } finally {
    console.error = original;
  }
  const body = await res.json() as EvaluationBody;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  assert.equal(body.result?.size.fileBytes, MLP.length);
  assert.deepEqual(body.result?.recorded, {
    runId: RUN_ID,
    error: `Cannot record run '${RUN_ID}' at x: HTTP 409: conflict`,
  });
  assert.equal(logged.length, 1);
  assert.match(logged[0] ?? "", /HTTP 409: conflict/);
});

Deno.test("POST /v1/evaluations answers 400 to record when no recorder is configured", async () => {
  const evaluator = controlledEvaluator();
  const app = appWith({ evaluate: evaluator.evaluate });
  const error = await errorOf(
    await post(app, { model: MLP, dataset: "mnist", record: { model: "m" } }),
    400,
  );
  assert.equal(error.details?.field, "record");
  assert.match(error.message, /set BENCHMARK_URL/);
  assert.equal(evaluator.calls.length, 0);
});

Deno.test("POST /v1/evaluations answers 400 naming the field of a malformed record", async () => {
  const recorder = fakeRecorder();
  const app = appWith({ record: recorder.record });
  const cases: [unknown, string][] = [
    ["{", "record"],
    [[], "record"],
    [{}, "record.model"],
    [{ model: "" }, "record.model"],
    [{ model: "m", id: "not-a-uuid" }, "record.id"],
    [{ model: "m", recipe: "int8" }, "record.recipe"],
    [{ model: "m", tags: ["a"] }, "record.tags"],
    [{ model: "m", modle: "typo" }, "record.modle"],
  ];
  for (const [record, field] of cases) {
    const error = await errorOf(await post(app, { model: MLP, dataset: "mnist", record }), 400);
    assert.equal(
      error.details?.field,
      field,
      `${JSON.stringify(record)}: ${JSON.stringify(error)}`,
    );
    assert.match(error.message, /^Invalid record/);
  }
  assert.equal(recorder.calls.length, 0);
});

Deno.test("POST /v1/evaluations records an asynchronous job before it succeeds", async () => {
  const recorder = fakeRecorder();
  const app = appWith({ record: recorder.record });
  const res = await post(
    app,
    { model: MLP, dataset: "mnist", record: { model: "m", id: RUN_ID } },
    { Prefer: "respond-async" },
  );
  assert.equal(res.status, 202);
  const { id } = await res.json() as EvaluationBody;
  const done = await pollUntil(async () => {
    const body = await (await app.request(`/v1/evaluations/${id}`)).json() as EvaluationBody;
    return body.status === "succeeded" ? body : undefined;
  });
  assert.deepEqual(done.result?.recorded, { runId: RUN_ID, status: "created", regressions: 0 });
});

Deno.test("POST /v1/evaluations cancelled while recording ends cancelled, the request aborted", async () => {
  let entered!: () => void;
  const recording = new Promise<void>((resolve) => entered = resolve);
  const recorder = fakeRecorder((_run, options) =>
    new Promise((_resolve, reject) => {
      entered();
      options?.signal?.addEventListener("abort", () => reject(options.signal?.reason));
    })
  );
  const app = appWith({ record: recorder.record });
  const res = await post(
    app,
    { model: MLP, dataset: "mnist", record: { model: "m" } },
    { Prefer: "respond-async" },
  );
  const { id } = await res.json() as EvaluationBody;
  await recording;
  await assertCancels(app, `${PATH}/${id}`, []);
  assert.equal(recorder.calls[0]?.options?.signal?.aborted, true);
});

Deno.test("GET /openapi.json describes the record field and the recorded outcome", async () => {
  const doc = await (await appWith().request("/openapi.json")).json();
  const schemas = doc.components.schemas;
  assert.ok(schemas.CreateEvaluationForm.properties.record);
  assert.deepEqual(schemas.RecordRequest.required, ["model"]);
  assert.ok("id" in schemas.RecordRequest.properties);
  assert.ok(schemas.RecordOutcome);
  assert.match(JSON.stringify(schemas.EvaluationResult), /recorded/);
});
