/**
 * Errors that callers of `@modelpress/onnx` catch by class.
 * @module
 */

/**
 * Thrown when bytes are not a valid ONNX model. `offset` is the byte position in the input where
 * decoding failed, so a user can look at the file with a hex viewer.
 *
 * @example
 * ```ts
 * import { decodeModel, OnnxParseError } from "@modelpress/onnx";
 * try {
 *   decodeModel(new Uint8Array([0x0a, 0xff]));
 * } catch (e) {
 *   if (e instanceof OnnxParseError) console.log(e.offset);
 * }
 * ```
 */
export class OnnxParseError extends Error {
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;

  /**
   * @param message What is wrong, in plain words.
   * @param offset Byte offset in the input.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(`Cannot parse ONNX model at byte ${offset}: ${message}`, options);
    this.name = "OnnxParseError";
    this.offset = offset;
  }
}
