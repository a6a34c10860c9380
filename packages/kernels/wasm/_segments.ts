/**
 * Splits an [outer, channels, inner] view into contiguous pieces of at most `chunk` elements, so
 * that the WASM memory stays small and the working set stays in cache. Imported only from this
 * folder.
 * @module
 */

/** A contiguous piece: `outer x channels x inner` elements starting at (o, c, i) = `start`. */
export interface Segment {
  readonly o: number;
  readonly c: number;
  readonly i: number;
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  /** Flat index of the first element. */
  readonly offset: number;
  /** Element count. */
  readonly length: number;
}

/**
 * Yields the pieces in memory order. Channel ranges start at multiples of `block` (or hold one
 * channel) so that block indices stay relative.
 */
export function* segments(
  view: { readonly outer: number; readonly channels: number; readonly inner: number },
  options: { readonly chunk: number; readonly block: number },
): Generator<Segment> {
  const { outer, channels, inner } = view;
  const { chunk, block } = options;
  const slab = channels * inner;
  if (outer * slab === 0) return;
  if (slab <= chunk) {
    const step = Math.max(1, Math.floor(chunk / slab));
    for (let o = 0; o < outer; o += step) {
      const n = Math.min(step, outer - o);
      yield { o, c: 0, i: 0, outer: n, channels, inner, offset: o * slab, length: n * slab };
    }
    return;
  }
  if (inner <= chunk) {
    const fit = Math.floor(chunk / inner);
    const step = fit >= block ? fit - (fit % block) : 1;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c += step) {
        const n = Math.min(step, channels - c);
        const offset = (o * channels + c) * inner;
        yield { o, c, i: 0, outer: 1, channels: n, inner, offset, length: n * inner };
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < inner; i += chunk) {
        const n = Math.min(chunk, inner - i);
        const offset = (o * channels + c) * inner + i;
        yield { o, c, i, outer: 1, channels: 1, inner: n, offset, length: n };
      }
    }
  }
}
