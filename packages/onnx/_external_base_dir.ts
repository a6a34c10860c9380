/**
 * The directory each lazily read external tensor's `location` is relative to, recorded by
 * `readModel` so that `readExternalData` and `writeModel` need no `baseDir` for such tensors.
 * @module
 */
import type { TensorProto } from "./_gen/onnx_pb.ts";

/** Tensor → the directory of the model file it was read from. */
export const EXTERNAL_BASE_DIRS: WeakMap<TensorProto, string> = new WeakMap();
