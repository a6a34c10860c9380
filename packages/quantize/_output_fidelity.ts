/**
 * Output fidelity of model variants against one float model on a fixed sample of a dataset: the
 * float model runs once, its outputs are kept, and each variant is compared with them.
 * @module
 */
import {
  decodeModel,
  float16ToFloat32,
  float32ToFloat16,
  type GraphProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import {
  createSession,
  type Dataset,
  FidelityMeter,
  type NumericArray,
  runSession,
  Tensor,
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

interface InputPlan {
  readonly input: string;
  readonly array: Dataset["inputs"][string];
  readonly type: "float32" | "float16" | "int64" | "int32";
  readonly sampleShape: readonly number[];
  readonly sampleSize: number;
}

const T = TensorProto_DataType;
const FEED_TYPES: Readonly<Record<number, InputPlan["type"]>> = {
  [T.FLOAT]: "float32",
  [T.FLOAT16]: "float16",
  [T.INT64]: "int64",
  [T.INT32]: "int32",
};

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
    const plans = planInputs(dataset, graph);
    const batches: TensorMap[] = [];
    for (let start = 0; start < samples; start += options.batchSize) {
      const picks: number[] = [];
      for (let i = start; i < Math.min(samples, start + options.batchSize); i++) {
        // Spread over the dataset: a dataset sorted by class is sampled across classes.
        picks.push(Math.floor((i * dataset.count) / samples));
      }
      batches.push(batchFeeds(dataset, plans, picks));
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

/** Matches dataset arrays to the graph's inputs as `evaluateModel` does. */
function planInputs(dataset: Dataset, graph: GraphProto): InputPlan[] {
  const inits = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((v) => !inits.has(v.name));
  const arrays = Object.keys(dataset.inputs);
  const single = arrays.length === 1 && inputs.length === 1;
  return inputs.map((info) => {
    const t = info.type?.value.case === "tensorType" ? info.type.value.value : undefined;
    const arrayName = single ? arrays[0]! : info.name;
    const array = dataset.inputs[arrayName];
    if (array === undefined) {
      throw new TypeError(
        `Cannot assign precision: the dataset has no array for model input '${info.name}' ` +
          `(dataset inputs: ${arrays.join(", ")})`,
      );
    }
    const type = FEED_TYPES[t?.elemType ?? 0];
    if (type === undefined) {
      throw new TypeError(
        `Cannot assign precision: input '${info.name}' has element type ${t?.elemType}, ` +
          "which cannot be fed (float32, float16, int32 or int64)",
      );
    }
    const own = array.shape.slice(1);
    const ownSize = own.reduce((p, d) => p * d, 1);
    const declared = t?.shape?.dim.slice(1).map((d) =>
      d.value.case === "dimValue" ? Number(d.value.value) : 0
    );
    const fixed = declared !== undefined && declared.every((d) => d > 0) ? declared : undefined;
    const sampleShape = dataset.preprocess?.sampleShape ?? fixed ?? own;
    const sampleSize = sampleShape.reduce((p, d) => p * d, 1);
    if (sampleSize !== ownSize) {
      throw new TypeError(
        `Cannot assign precision: input '${info.name}' takes samples of [${sampleShape}], ` +
          `dataset array '${arrayName}' has samples of [${own}]`,
      );
    }
    return { input: info.name, array, type, sampleShape, sampleSize };
  });
}

function batchFeeds(dataset: Dataset, plans: readonly InputPlan[], picks: number[]): TensorMap {
  const multiply = dataset.preprocess?.multiply ?? 1;
  const offset = dataset.preprocess?.offset ?? 0;
  const feeds: TensorMap = {};
  for (const plan of plans) {
    const n = plan.sampleSize;
    const source = plan.array.data as NumericArray;
    const values = new Float64Array(picks.length * n);
    for (let s = 0; s < picks.length; s++) {
      const from = picks[s]! * n;
      for (let j = 0; j < n; j++) values[s * n + j] = Number(source[from + j]!);
    }
    const dims = [picks.length, ...plan.sampleShape];
    if (plan.type === "float32" || plan.type === "float16") {
      const f = Float32Array.from(values, (v) => v * multiply + offset);
      feeds[plan.input] = plan.type === "float32"
        ? new Tensor("float32", f, dims)
        : new Tensor("float16", float32ToFloat16(f), dims);
    } else if (plan.type === "int64") {
      feeds[plan.input] = new Tensor("int64", BigInt64Array.from(values, (v) => BigInt(v)), dims);
    } else {
      feeds[plan.input] = new Tensor("int32", Int32Array.from(values), dims);
    }
  }
  return feeds;
}
