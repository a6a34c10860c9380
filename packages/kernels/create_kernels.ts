/**
 * Backend selection: WebGPU only when a real adapter is obtained, else WebAssembly, else the
 * TypeScript reference.
 * @module
 */
import type { BackendChoice, Kernels } from "./kernels.ts";
import { createJsKernels } from "./js/backend.ts";
import { createWasmKernels } from "./wasm/backend.ts";
import { createWebGpuKernels } from "./webgpu/backend.ts";

/** Options of {@linkcode createKernels}. */
export interface CreateKernelsOptions {
  /**
   * `"auto"` (default): WebGPU when a real, non-fallback adapter is obtained, else WASM.
   * `"webgpu"`: any adapter, the software one included; `"wasm"`; `"js"`: the reference.
   */
  readonly backend?: BackendChoice;
}

/** The part of a GPU adapter that tells whether it is real hardware. */
export interface AdapterFacts {
  /** `adapter.info` (vendor, architecture, device, description, isFallbackAdapter). */
  readonly info?: {
    readonly vendor?: string;
    readonly architecture?: string;
    readonly device?: string;
    readonly description?: string;
    readonly isFallbackAdapter?: boolean;
  };
  /** Older implementations put the flag on the adapter itself. */
  readonly isFallbackAdapter?: boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|warp|basic render/i;

/**
 * Whether an adapter is real hardware: not a fallback adapter and not a known software
 * rasterizer (llvmpipe, lavapipe, SwiftShader, WARP), which would be slower than WASM.
 *
 * @param adapter The adapter (or its facts).
 * @returns True for hardware.
 * @example
 * ```ts
 * import { isHardwareAdapter } from "@modelpress/kernels";
 * isHardwareAdapter({ info: { vendor: "mesa", description: "llvmpipe (LLVM 19.1.7, 256 bits)" } });
 * // false
 * ```
 */
export function isHardwareAdapter(adapter: AdapterFacts): boolean {
  const info = adapter.info ?? {};
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true) return false;
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return !SOFTWARE.test(text);
}

/**
 * Creates the kernels on the chosen backend. `"auto"` asks for a GPU adapter and takes WebGPU
 * only when it is hardware ({@linkcode isHardwareAdapter}) and a device is obtained; otherwise
 * WASM, which runs wherever WebAssembly SIMD does.
 *
 * @param options Which backend.
 * @returns The kernels; `kernels.backend` says which backend runs them.
 * @throws {Error} When `"webgpu"` is asked for and no adapter or device is available.
 * @throws {TypeError} When the backend name is unknown.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * const kernels = await createKernels();
 * console.log(kernels.backend); // "wasm" on a machine without a GPU
 * ```
 */
export async function createKernels(options: CreateKernelsOptions = {}): Promise<Kernels> {
  const backend = options.backend ?? "auto";
  switch (backend) {
    case "js":
      return createJsKernels();
    case "wasm":
      return await createWasmKernels();
    case "webgpu":
      return await createWebGpuKernels();
    case "auto": {
      const gpu = (navigator as { gpu?: GPU }).gpu;
      const adapter = await gpu?.requestAdapter({ powerPreference: "high-performance" });
      if (adapter !== null && adapter !== undefined && isHardwareAdapter(adapter)) {
        try {
          return await createWebGpuKernels({ adapter });
        } catch {
          // A device that cannot be created is no GPU to use: fall through to WASM.
        }
      }
      return await createWasmKernels();
    }
    default:
      throw new TypeError(`Cannot create kernels: unknown backend '${backend as string}'`);
  }
}
