/**
 * Output fidelity of model variants against one float model on a fixed sample of a dataset: the
 * float model runs once, its outputs are kept, and each variant is compared with them.
 * @module
 */
import { decodeModel, float16ToFloat32 } from "@modelpress/onnx";
import {
  createSession,
  type Dataset,
  DatasetFeedError,
  datasetFeeds,
  FidelityMeter,
  planDatasetFeeds,
  runSession,
  type TensorMap,
} from "@modelpress/evaluate";

/** Output fidelity of a variant: the three metrics that precision assignment works with. */
export interface OutputFidelity {
  /** Signal-to-quantization-noise ratio of the output in dB (`Infinity` when identical). */
  readonly sqnrDb: number;
  /** Mean per-sample cosine similarity of the output. */
  readonly cosine: number;
  /** Fraction of samples whose argmax agrees with the float model's. */
  readonly agreement: number;
}

/** Compares variants of one model with it on a fixed sample (see the module doc). */
export class OutputFidelityProbe {
  readonly #batches: readonly TensorMap[];
  readonly #reference: readonly Float32Array[];
  readonly #counts: readonly number[];
  readonly #output: string;
  readonly #samples: number;

  private constructor(
    batches: readonly TensorMap[],
    reference: readonly Float32Array[],
    output: string,
    samples: number,
  ) {
    this.#batches = batches;
    this.#counts = batches.map((b) => Object.values(b)[0]?.dims[0] ?? 0);
    this.#reference = reference;
    this.#output = output;
    this.#samples = samples;
  }

  /** Samples compared. */
  get samples(): number {
    return this.#samples;
  }

  /** The output compared. */
  get output(): string {
    return this.#output;
  }

  /**
   * Picks `samples` samples spread over the dataset, runs the float model on them and keeps its
   * outputs.
   *
   * @param model The float model, serialized.
   * @param dataset The data.
   * @param options Samples, batch size and the output compared (default the first).
   * @returns The probe.
   */
  static async create(
    model: Uint8Array,
    dataset: Dataset,
    options: { samples: number; batchSize: number; output?: string | undefined },
  ): Promise<OutputFidelityProbe> {
    const graph = decodeModel(model).graph;
    if (graph === undefined) throw new TypeError("Cannot assign precision: the model has no graph");
    const output = options.output ?? graph.output[0]?.name;
    if (output === undefined || !graph.output.some((o) => o.name === output)) {
      throw new TypeError(
        `Cannot assign precision: '${output}' is not an output of the model (outputs: ${
          graph.output.map((o) => o.name).join(", ")
        })`,
      );
    }
    const samples = Math.min(dataset.count, options.samples);
    const plans = inPrecisionWords(() => planDatasetFeeds(dataset, graph));
    const batches: TensorMap[] = [];
    for (let start = 0; start < samples; start += options.batchSize) {
      const picks: number[] = [];
      for (let i = start; i < Math.min(samples, start + options.batchSize); i++) {
        // Spread over the dataset: a dataset sorted by class is sampled across classes.
        picks.push(Math.floor((i * dataset.count) / samples));
      }
      batches.push(inPrecisionWords(() => datasetFeeds(dataset, plans, picks)));
    }
    const probe = new OutputFidelityProbe(batches, [], output, samples);
    const reference = await probe.#run(model);
    return new OutputFidelityProbe(batches, reference, output, samples);
  }

  /**
   * Runs a variant on the sample and compares its output with the float model's.
   *
   * @param model The variant, serialized.
   * @param signal Cancels between batches.
   * @returns Its fidelity.
   */
  async measure(model: Uint8Array, signal?: AbortSignal): Promise<OutputFidelity> {
    const outputs = await this.#run(model, signal);
    const meter = new FidelityMeter({ output: this.#output });
    for (const [i, actual] of outputs.entries()) {
      const expected = this.#reference[i]!;
      meter.add(actual, expected, { samples: this.#counts[i]! });
    }
    const r = meter.report();
    return { sqnrDb: r.sqnrDb, cosine: r.cosineSimilarity, agreement: r.top1Agreement };
  }

  async #run(model: Uint8Array, signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    const session = await createSession(model);
    try {
      const out: Float32Array[] = [];
      for (const feeds of this.#batches) {
        signal?.throwIfAborted();
        const result = await runSession(session, feeds, { outputs: [this.#output] });
        const t = result[this.#output]!;
        const data = t.type === "float16" && t.data instanceof Uint16Array
          ? float16ToFloat32(t.data)
          : Float32Array.from(t.data as ArrayLike<number>);
        out.push(data);
      }
      return out;
    } finally {
      await session.release();
    }
  }
}

/** Runs `f`, rethrowing a dataset that does not fit the model in precision assignment's words. */
function inPrecisionWords<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DatasetFeedError) {
      throw new TypeError(`Cannot assign precision: ${e.reason}`, { cause: e });
    }
    throw e;
  }
}
