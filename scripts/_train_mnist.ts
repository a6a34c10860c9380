/**
 * Training of the MNIST fixture models with TensorFlow.js, for `make_fixtures.ts` only.
 *
 * Everything that could vary between runs is fixed: weights start from a seeded PRNG (not
 * tfjs's initializers), batches are shuffled and augmented with the same PRNG, and tfjs runs
 * single-threaded. The models are written with tfjs ops rather than tfjs-layers because the
 * WASM backend has no `Conv2DBackpropFilter` kernel: convolutions and batch normalization get
 * their gradients from {@link conv3x3} and {@link batchNormTrain} below, which
 * {@link checkGradients} compares with tfjs's own automatic differentiation before training.
 * @module
 */
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { MNIST_CLASSES, MNIST_PIXELS, type MnistData } from "@modelpress/evaluate";
import { mulberry32 } from "../test/support/prng.ts";

/** A tfjs backend that runs in Deno. */
export type TfBackend = "wasm" | "cpu";

/** Side of an MNIST image. */
export const IMAGE_SIDE = 28;
/** BatchNormalization epsilon, the ONNX default. */
export const BN_EPSILON = 1e-5;
/** Weight of the old value in the running mean/variance update (PyTorch's momentum 0.1). */
const BN_DECAY = 0.9;

/**
 * Makes tfjs use a backend; for `wasm`, its `.wasm` files come from the local node_modules.
 *
 * @param backend The backend.
 * @returns Nothing.
 */
export async function useTfBackend(backend: TfBackend): Promise<void> {
  if (backend === "wasm") {
    const wasm = new URL(
      import.meta.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"),
    );
    if (wasm.protocol !== "file:") {
      throw new Error(`Cannot use tfjs's wasm backend: its files resolved to ${wasm.href}`);
    }
    setWasmPaths(fileURLToPath(new URL("./", wasm)));
    // tfjs's own probe finds no thread support under Deno; pinning it keeps results from
    // depending on the probe (threads could change the order of float additions).
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
  if (!(await tf.setBackend(backend))) {
    throw new Error(`Cannot use tfjs's ${backend} backend: it failed to initialize`);
  }
  await tf.ready();
}

/**
 * Fills an array with normal samples (Box-Muller).
 *
 * @param rng The PRNG.
 * @param count How many samples.
 * @param std Their standard deviation.
 * @returns The samples.
 */
function normalArray(rng: () => number, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const theta = 2 * Math.PI * rng();
    out[i] = r * Math.cos(theta) * std;
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta) * std;
  }
  return out;
}

/**
 * A random permutation of 0..n-1 (Fisher-Yates).
 *
 * @param n The length.
 * @param rng The PRNG.
 * @returns The permutation.
 */
function permutation(n: number, rng: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/**
 * Copies samples into a batch, each shifted by a random whole number of pixels (zero fill).
 *
 * @param data The samples.
 * @param indices Which samples, in order.
 * @param options Largest shift (0: no augmentation) and PRNG.
 * @returns Images and one-hot labels of the batch.
 */
function makeBatch(
  data: MnistData,
  indices: Uint32Array,
  options: { maxShift: number; rng: () => number },
): { images: Float32Array; oneHot: Float32Array } {
  const images = new Float32Array(indices.length * MNIST_PIXELS);
  const oneHot = new Float32Array(indices.length * MNIST_CLASSES);
  const { maxShift, rng } = options;
  indices.forEach((k, b) => {
    const src = k * MNIST_PIXELS;
    const dst = b * MNIST_PIXELS;
    const span = 2 * maxShift + 1;
    const dy = Math.floor(rng() * span) - maxShift;
    const dx = Math.floor(rng() * span) - maxShift;
    for (let y = 0; y < IMAGE_SIDE; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= IMAGE_SIDE) continue;
      for (let x = 0; x < IMAGE_SIDE; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= IMAGE_SIDE) continue;
        images[dst + y * IMAGE_SIDE + x] = data.images[src + sy * IMAGE_SIDE + sx] as number;
      }
    }
    oneHot[b * MNIST_CLASSES + (data.labels[k] as number)] = 1;
  });
  return { images, oneHot };
}

type CustomGradFunc = Parameters<typeof tf.customGrad>[0];

/**
 * A 3x3, stride 1, "same"-padded convolution (NHWC input, HWIO kernel) whose gradients are
 * made of forward convolutions, which the WASM backend has.
 */
export const conv3x3: (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D = tf.customGrad(
  ((x: tf.Tensor4D, kernel: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([x, kernel]);
    return {
      value: tf.conv2d(x, kernel, 1, "same"),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, k] = saved as [tf.Tensor4D, tf.Tensor4D];
        // dx correlates dy with the kernel turned by 180 degrees, in and out channels swapped.
        const dx = tf.conv2d(dy, tf.transpose(tf.reverse(k, [0, 1]), [0, 1, 3, 2]), 1, "same");
        // dk[i,j,c,o] = sum over n,h,w of xpad[n,h+i,w+j,c] * dy[n,h,w,o]: a "valid"
        // convolution of the padded input with dy once batch and channels trade places.
        const xT = tf.transpose(tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]), [3, 1, 2, 0]);
        const dyT = tf.transpose(dy, [1, 2, 0, 3]);
        const dk = tf.transpose(
          tf.conv2d(xT as tf.Tensor4D, dyT as tf.Tensor4D, 1, "valid"),
          [1, 2, 0, 3],
        );
        return [dx, dk];
      },
    };
  }) as unknown as CustomGradFunc,
) as unknown as (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;

/** Mean and biased variance of one batch normalization input, over `count` elements each. */
export interface BatchStat {
  /** Per-channel mean. */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased variance. */
  readonly variance: tf.Tensor1D;
  /** Elements per channel (N * H * W). */
  readonly count: number;
}

/** Batch statistics seen by {@link batchNormTrain} calls, kept for the running averages. */
let batchStats: BatchStat[] = [];

/** Disposes and forgets the recorded batch statistics. */
function clearBatchStats(): void {
  for (const s of batchStats) tf.dispose([s.mean, s.variance]);
  batchStats = [];
}

/**
 * Batch normalization over N, H, W with the batch's statistics (training mode), with the
 * closed-form gradient. It records the batch mean and (biased) variance in `batchStats`.
 */
const batchNormTrain: (x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor4D = tf
  .customGrad(
    ((x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      batchStats.push({
        mean: tf.keep(mean.clone()) as tf.Tensor1D,
        variance: tf.keep(variance.clone()) as tf.Tensor1D,
        count: x.shape[0] * x.shape[1] * x.shape[2],
      });
      const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
      const xHat = tf.mul(tf.sub(x, mean), invStd) as tf.Tensor4D;
      save([xHat, invStd, gamma]);
      return {
        value: tf.add(tf.mul(xHat, gamma), beta) as tf.Tensor4D,
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
          const [h, s, g] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
          const m = dy.shape[0] * dy.shape[1] * dy.shape[2];
          const dBeta = tf.sum(dy, [0, 1, 2]);
          const dGamma = tf.sum(tf.mul(dy, h), [0, 1, 2]);
          const centered = tf.sub(tf.sub(dy, tf.div(dBeta, m)), tf.mul(h, tf.div(dGamma, m)));
          return [tf.mul(tf.mul(g, s), centered), dGamma, dBeta];
        },
      };
    }) as unknown as CustomGradFunc,
  ) as unknown as (x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor4D;

/**
 * Compares the gradients of {@link conv3x3} and {@link batchNormTrain} with tfjs's automatic
 * differentiation of plain formulas (im2col convolution, moments-based normalization).
 *
 * @param seed Seed of the random inputs.
 * @returns The largest relative difference seen.
 * @throws {Error} When a gradient differs by more than 1e-4 relative to its largest element.
 */
export function checkGradients(seed: number): number {
  const rng = mulberry32(seed);
  return tf.tidy(() => {
    const x = tf.tensor4d(normalArray(rng, 2 * 6 * 5 * 3, 1), [2, 6, 5, 3]);
    const k = tf.tensor4d(normalArray(rng, 3 * 3 * 3 * 4, 1), [3, 3, 3, 4]);
    const g = tf.tensor1d(normalArray(rng, 4, 1));
    const b = tf.tensor1d(normalArray(rng, 4, 1));
    const w = tf.tensor4d(normalArray(rng, 2 * 6 * 5 * 4, 1), [2, 6, 5, 4]);
    const im2col = (xs: tf.Tensor4D, ks: tf.Tensor4D): tf.Tensor4D => {
      const [n, h, wd, c] = xs.shape;
      const p = tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      const cols: tf.Tensor4D[] = [];
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) cols.push(tf.slice(p, [0, i, j, 0], [n, h, wd, c]));
      }
      const col = tf.reshape(tf.concat(cols, 3), [n * h * wd, 9 * c]);
      return tf.reshape(tf.matMul(col, tf.reshape(ks, [9 * c, -1])), [n, h, wd, -1]);
    };
    const plainBn = (xs: tf.Tensor4D, gs: tf.Tensor1D, bs: tf.Tensor1D): tf.Tensor4D => {
      const { mean, variance } = tf.moments(xs, [0, 1, 2]);
      return tf.add(
        tf.mul(tf.div(tf.sub(xs, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), gs),
        bs,
      );
    };
    const ours = tf.grads((a, c, d, e) =>
      tf.sum(
        tf.mul(
          batchNormTrain(
            conv3x3(a as tf.Tensor4D, c as tf.Tensor4D),
            d as tf.Tensor1D,
            e as tf.Tensor1D,
          ),
          w,
        ),
      )
    )([x, k, g, b]);
    const reference = tf.grads((a, c, d, e) =>
      tf.sum(
        tf.mul(
          plainBn(im2col(a as tf.Tensor4D, c as tf.Tensor4D), d as tf.Tensor1D, e as tf.Tensor1D),
          w,
        ),
      )
    )([x, k, g, b]);
    clearBatchStats();
    let worst = 0;
    ours.forEach((o, i) => {
      const r = reference[i] as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(o, r))).dataSync()[0] as number;
      const scale = tf.max(tf.abs(r)).dataSync()[0] as number;
      const rel = diff / Math.max(scale, 1e-12);
      worst = Math.max(worst, rel);
      if (!(rel <= 1e-4)) {
        throw new Error(
          `Cannot train: custom gradient ${i} differs from autodiff by ${rel} (relative)`,
        );
      }
    });
    return worst;
  });
}

/** Hyperparameters of one training run. */
export interface TrainOptions {
  /** PRNG seed for weights, shuffling and augmentation. */
  readonly seed: number;
  /** Passes over the training data. */
  readonly epochs: number;
  /** Samples per step. */
  readonly batchSize: number;
  /** Adam's initial learning rate; it decays to 0 along a cosine. */
  readonly learningRate: number;
  /** Largest random shift in pixels, each axis, per sample and epoch (0: none). */
  readonly maxShift: number;
  /** Called after each epoch. */
  readonly onEpoch?: (epoch: number, meanLoss: number) => void;
}

/** A model that {@link train} can fit. */
export interface TrainableModel {
  /** The trainable variables. */
  readonly variables: readonly tf.Variable[];
  /**
   * Logits for a batch of images [n, 784].
   * @param images The batch.
   * @param training Whether to use (and record) batch statistics.
   */
  logits(images: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /** Called after each step with the batch statistics recorded during it. */
  afterStep(stats: readonly BatchStat[]): void;
  /** Frees every tensor of the model (its variable names can then be used again). */
  dispose(): void;
}

/**
 * Minimizes softmax cross-entropy with Adam (beta1 0.9, beta2 0.999, epsilon 1e-8) and a
 * cosine learning-rate decay.
 *
 * @param model The model.
 * @param data The training samples.
 * @param options Hyperparameters.
 * @returns Nothing; the model's variables hold the result.
 */
export function train(model: TrainableModel, data: MnistData, options: TrainOptions): void {
  const rng = mulberry32(options.seed ^ 0x9e3779b9);
  const vars = model.variables;
  const m = vars.map((v) => tf.variable(tf.zerosLike(v), false));
  const s = vars.map((v) => tf.variable(tf.zerosLike(v), false));
  const beta1 = 0.9;
  const beta2 = 0.999;
  const stepsPerEpoch = Math.ceil(data.count / options.batchSize);
  const totalSteps = stepsPerEpoch * options.epochs;
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = permutation(data.count, rng);
    let lossSum = 0;
    for (let start = 0; start < data.count; start += options.batchSize) {
      const indices = order.subarray(start, Math.min(start + options.batchSize, data.count));
      const batch = makeBatch(data, indices, { maxShift: options.maxShift, rng });
      const lr = options.learningRate * 0.5 * (1 + Math.cos(Math.PI * step / totalSteps));
      step++;
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(batch.images, [indices.length, MNIST_PIXELS]);
        const y = tf.tensor2d(batch.oneHot, [indices.length, MNIST_CLASSES]);
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, model.logits(x, true)) as tf.Scalar,
          [...vars],
        );
        const correction = Math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step);
        vars.forEach((v, i) => {
          const g = grads[v.name] as tf.Tensor;
          const mi = m[i] as tf.Variable;
          const si = s[i] as tf.Variable;
          mi.assign(tf.add(tf.mul(mi, beta1), tf.mul(g, 1 - beta1)));
          si.assign(tf.add(tf.mul(si, beta2), tf.mul(tf.square(g), 1 - beta2)));
          v.assign(tf.sub(v, tf.mul(tf.div(mi, tf.add(tf.sqrt(si), 1e-8)), lr * correction)));
        });
        return value.dataSync()[0] as number;
      });
      model.afterStep(batchStats);
      clearBatchStats();
      lossSum += loss * indices.length;
    }
    options.onEpoch?.(epoch + 1, lossSum / data.count);
  }
  for (const t of [...m, ...s]) t.dispose();
}

/**
 * Logits of a model for every sample, computed in batches in inference mode.
 *
 * @param model The model.
 * @param data The samples.
 * @param batchSize Samples per forward pass.
 * @returns `data.count * 10` logits, sample-major.
 */
export function predictLogits(
  model: TrainableModel,
  data: MnistData,
  batchSize: number,
): Float32Array {
  const out = new Float32Array(data.count * MNIST_CLASSES);
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const logits = tf.tidy(() => {
      const x = tf.tensor2d(
        data.images.subarray(start * MNIST_PIXELS, (start + n) * MNIST_PIXELS),
        [n, MNIST_PIXELS],
      );
      return model.logits(x, false).dataSync() as Float32Array;
    });
    out.set(logits, start * MNIST_CLASSES);
  }
  return out;
}

/**
 * A trainable variable initialized from the PRNG with N(0, std^2) (or zeros/ones).
 *
 * @param name The variable's name.
 * @param shape Its shape.
 * @param init Normal std, or a constant fill.
 * @param rng The PRNG.
 * @returns The variable.
 */
function param(
  name: string,
  shape: number[],
  init: { std: number } | { fill: number },
  rng: () => number,
): tf.Variable {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = "std" in init
    ? normalArray(rng, size, init.std)
    : new Float32Array(size).fill(init.fill);
  return tf.variable(tf.tensor(values, shape), true, name);
}

/** The MLP 784-256-128-10 with ReLU; weights in tfjs's Dense layout [in, out]. */
export interface Mlp extends TrainableModel {
  /** Weights [in, out] and biases [out] of the three layers. */
  readonly layers: readonly { readonly weight: tf.Variable; readonly bias: tf.Variable }[];
}

/** Layer widths of the MLP. */
export const MLP_WIDTHS: readonly number[] = [MNIST_PIXELS, 256, 128, MNIST_CLASSES];

/**
 * Makes the MLP with He-normal weights (LeCun-normal for the last layer) and zero biases.
 *
 * @param seed The PRNG seed.
 * @returns The model.
 */
export function createMlp(seed: number): Mlp {
  const rng = mulberry32(seed);
  const layers = MLP_WIDTHS.slice(1).map((out, i) => {
    const inp = MLP_WIDTHS[i] as number;
    const last = i === MLP_WIDTHS.length - 2;
    return {
      weight: param(`fc${i + 1}.weight`, [inp, out], { std: Math.sqrt((last ? 1 : 2) / inp) }, rng),
      bias: param(`fc${i + 1}.bias`, [out], { fill: 0 }, rng),
    };
  });
  return {
    layers,
    variables: layers.flatMap((l) => [l.weight, l.bias]),
    logits(images: tf.Tensor2D): tf.Tensor2D {
      let h: tf.Tensor2D = images;
      layers.forEach((l, i) => {
        h = tf.add(tf.matMul(h, l.weight as tf.Tensor2D), l.bias);
        if (i < layers.length - 1) h = tf.relu(h);
      });
      return h;
    },
    afterStep(): void {},
    dispose(): void {
      tf.dispose(layers.flatMap((l) => [l.weight, l.bias]));
    },
  };
}

/** One convolution block's parameters: HWIO kernel, BN scale/shift and running statistics. */
export interface ConvBlock {
  /** Kernel [3, 3, in, out] (tfjs layout). */
  readonly kernel: tf.Variable;
  /** BN scale [out]. */
  readonly gamma: tf.Variable;
  /** BN shift [out]. */
  readonly beta: tf.Variable;
  /** Running mean [out]. */
  readonly runningMean: tf.Variable;
  /** Running variance [out]. */
  readonly runningVar: tf.Variable;
}

/** The CNN: (Conv3x3 - BN - ReLU) x 2, MaxPool 2x2, Flatten, Dense -> logits (NHWC in tfjs). */
export interface Cnn extends TrainableModel {
  /** The two convolution blocks. */
  readonly blocks: readonly ConvBlock[];
  /** Dense weight [14 * 14 * channels, 10] over the NHWC-flattened pooled map. */
  readonly fcWeight: tf.Variable;
  /** Dense bias [10]. */
  readonly fcBias: tf.Variable;
}

/** Output channels of the CNN's two convolutions. */
export const CNN_CHANNELS: readonly number[] = [8, 16];

/**
 * Makes the CNN with He-normal kernels, BN scale 1 / shift 0 / running mean 0 / variance 1.
 *
 * @param seed The PRNG seed.
 * @returns The model.
 */
export function createCnn(seed: number): Cnn {
  const rng = mulberry32(seed);
  let inChannels = 1;
  const blocks = CNN_CHANNELS.map((out, i) => {
    const fanIn = 9 * inChannels;
    const block = {
      kernel: param(
        `conv${i + 1}.weight`,
        [3, 3, inChannels, out],
        { std: Math.sqrt(2 / fanIn) },
        rng,
      ),
      gamma: param(`bn${i + 1}.weight`, [out], { fill: 1 }, rng),
      beta: param(`bn${i + 1}.bias`, [out], { fill: 0 }, rng),
      runningMean: tf.variable(tf.zeros([out]), false, `bn${i + 1}.running_mean`),
      runningVar: tf.variable(tf.ones([out]), false, `bn${i + 1}.running_var`),
    };
    inChannels = out;
    return block;
  });
  const side = IMAGE_SIDE / 2;
  const flat = side * side * inChannels;
  const fcWeight = param("fc.weight", [flat, MNIST_CLASSES], { std: Math.sqrt(1 / flat) }, rng);
  const fcBias = param("fc.bias", [MNIST_CLASSES], { fill: 0 }, rng);
  return {
    blocks,
    fcWeight,
    fcBias,
    variables: [...blocks.flatMap((b) => [b.kernel, b.gamma, b.beta]), fcWeight, fcBias],
    logits(images: tf.Tensor2D, training: boolean): tf.Tensor2D {
      const n = images.shape[0];
      let h = tf.reshape(images, [n, IMAGE_SIDE, IMAGE_SIDE, 1]) as tf.Tensor4D;
      for (const b of blocks) {
        const z = conv3x3(h, b.kernel as tf.Tensor4D);
        const normalized = training
          ? batchNormTrain(z, b.gamma as tf.Tensor1D, b.beta as tf.Tensor1D)
          : tf.batchNorm(z, b.runningMean, b.runningVar, b.beta, b.gamma, BN_EPSILON);
        h = tf.relu(normalized) as tf.Tensor4D;
      }
      const pooled = tf.maxPool(h, 2, 2, "valid");
      return tf.add(tf.matMul(tf.reshape(pooled, [n, flat]), fcWeight as tf.Tensor2D), fcBias);
    },
    afterStep(stats: readonly BatchStat[]): void {
      // One entry per block, in call order. Like PyTorch, the running variance is unbiased.
      tf.tidy(() => {
        blocks.forEach((b, i) => {
          const stat = stats[i];
          if (stat === undefined || stats.length !== blocks.length) {
            throw new Error(
              `Cannot update BN statistics: ${stats.length} recorded, not ${blocks.length}`,
            );
          }
          const unbias = stat.count / (stat.count - 1);
          b.runningMean.assign(
            tf.add(tf.mul(b.runningMean, BN_DECAY), tf.mul(stat.mean, 1 - BN_DECAY)),
          );
          b.runningVar.assign(
            tf.add(tf.mul(b.runningVar, BN_DECAY), tf.mul(stat.variance, (1 - BN_DECAY) * unbias)),
          );
        });
      });
    },
    dispose(): void {
      tf.dispose([
        ...blocks.flatMap((b) => [b.kernel, b.gamma, b.beta, b.runningMean, b.runningVar]),
        fcWeight,
        fcBias,
      ]);
    },
  };
}
