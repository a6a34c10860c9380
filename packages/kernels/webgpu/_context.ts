/**
 * A GPU device with its pipeline cache, chunk size and buffer helpers. Imported only from this
 * folder.
 * @module
 */
import { type Program, WORKGROUP } from "./_programs.ts";

/** Gathers chunk results in one staging buffer; see {@linkcode GpuContext.collector}. */
export interface Collector {
  /** Queues a copy of the first `length` bytes of `from` to offset `at`. */
  copy(from: GPUBuffer, range: { readonly at: number; readonly length: number }): void;
  /** Maps the staging buffer once and returns its bytes. */
  finish(): Promise<ArrayBuffer>;
  /** Releases the staging buffer. */
  destroy(): void;
}

/** Options of {@linkcode GpuContext.create}. */
export interface GpuContextOptions {
  /** The adapter to use (default: `navigator.gpu.requestAdapter()`, any adapter). */
  readonly adapter?: GPUAdapter;
  /** A smaller storage-buffer binding limit than the device's, to exercise chunking in tests. */
  readonly maxStorageBufferBindingSize?: number;
}

const MAX_WORKGROUPS = 65535;

/** A device, its compiled pipelines (one per program key) and the chunk length in elements. */
export class GpuContext {
  readonly device: GPUDevice;
  /** Elements of 4 bytes per dispatch: within the binding limit and the workgroup count limit. */
  readonly chunk: number;
  /** The storage-buffer binding limit in bytes (the device's, or the smaller one forced). */
  readonly bindingLimit: number;
  readonly #pipelines = new Map<string, GPUComputePipeline>();

  private constructor(device: GPUDevice, bindingLimit: number) {
    this.device = device;
    this.bindingLimit = bindingLimit;
    const byLimit = Math.floor(bindingLimit / 4 / WORKGROUP) * WORKGROUP;
    this.chunk = Math.max(WORKGROUP, Math.min(byLimit, MAX_WORKGROUPS * WORKGROUP));
  }

  /** Requests an adapter (unless given) and a device. */
  static async create(options: GpuContextOptions = {}): Promise<GpuContext> {
    const gpu = (navigator as { gpu?: GPU }).gpu;
    const adapter = options.adapter ?? (await gpu?.requestAdapter()) ?? null;
    if (adapter === null) {
      throw new Error("Cannot create kernels on 'webgpu': no GPU adapter is available");
    }
    const device = await adapter.requestDevice();
    const limit = Math.min(
      device.limits.maxStorageBufferBindingSize,
      options.maxStorageBufferBindingSize ?? Infinity,
    );
    if (!(limit >= WORKGROUP * 4)) {
      throw new RangeError(
        `Cannot create kernels on 'webgpu': binding limit ${limit} is too small`,
      );
    }
    return new GpuContext(device, limit);
  }

  /** How many pipelines have been compiled (one per program key). */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** The pipeline of a program, compiled on first use. */
  pipeline(program: Program): GPUComputePipeline {
    let pipeline = this.#pipelines.get(program.key);
    if (pipeline === undefined) {
      const module = this.device.createShaderModule({ code: program.code, label: program.key });
      pipeline = this.device.createComputePipeline({
        layout: "auto",
        compute: { module, entryPoint: "main" },
        label: program.key,
      });
      this.#pipelines.set(program.key, pipeline);
    }
    return pipeline;
  }

  /** A storage buffer of `bytes` (at least 4), optionally filled. */
  storage(bytes: number, data?: ArrayBufferView): GPUBuffer {
    const buffer = this.device.createBuffer({
      size: Math.max(16, align4(bytes)),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    if (data !== undefined) this.write(buffer, data);
    return buffer;
  }

  /** A uniform buffer holding `words` (u32 or i32). */
  uniform(words: readonly number[]): GPUBuffer {
    const data = new Uint32Array(Math.max(4, align4(words.length)));
    for (let i = 0; i < words.length; i++) data[i] = words[i]! >>> 0;
    const buffer = this.device.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  /** Writes data at the start of a buffer (padding the length to 4 bytes). */
  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    if (data.byteLength % 4 === 0) {
      const source = data.buffer as ArrayBuffer;
      this.device.queue.writeBuffer(buffer, 0, source, data.byteOffset, data.byteLength);
      return;
    }
    const padded = new Uint8Array(align4(data.byteLength));
    padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.device.queue.writeBuffer(buffer, 0, padded);
  }

  /** Runs a program over `invocations` (one per element) with buffers bound in order. */
  dispatch(
    program: Program,
    run: { readonly buffers: readonly GPUBuffer[]; readonly invocations: number },
  ): void {
    const { buffers, invocations } = run;
    // A forced limit is only a number to the device: hold every kernel to it here, so that the
    // tests that force a small one prove the chunking.
    for (const buffer of buffers) {
      if ((buffer.usage & GPUBufferUsage.STORAGE) !== 0 && buffer.size > this.bindingLimit) {
        throw new RangeError(
          `Cannot run program '${program.key}': a ${buffer.size}-byte storage binding exceeds ` +
            `the limit of ${this.bindingLimit}`,
        );
      }
    }
    const pipeline = this.pipeline(program);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(invocations / WORKGROUP));
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /** Copies the first `bytes` of a buffer back to the CPU. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(16, align4(bytes));
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange(0, size).slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /**
   * A staging buffer that collects chunk results on the GPU (`copy` per chunk, in queue order)
   * so that one map brings them all back; `bytes` must not exceed the device's maxBufferSize.
   */
  collector(bytes: number): Collector {
    const size = Math.max(16, align4(bytes));
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const device = this.device;
    return {
      copy(from: GPUBuffer, range: { readonly at: number; readonly length: number }): void {
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(from, 0, staging, range.at, align4(range.length));
        device.queue.submit([encoder.finish()]);
      },
      async finish(): Promise<ArrayBuffer> {
        await staging.mapAsync(GPUMapMode.READ);
        return staging.getMappedRange(0, size).slice(0, bytes);
      },
      destroy(): void {
        staging.destroy();
      },
    };
  }

  /** The largest buffer the device allows. */
  get maxBufferSize(): number {
    return this.device.limits.maxBufferSize;
  }

  /** Releases the device. */
  destroy(): void {
    this.#pipelines.clear();
    this.device.destroy();
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
