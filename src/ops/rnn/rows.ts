/** Row copies between [*, f] Float32Arrays, shared by the fused path and its thread split. */

/** Copies row idx[k] of src ([*, f]) to row k of dst (or, with `scatter`, row k of src to row idx[k] of dst). */
export function copyRows(src: Float32Array, dst: Float32Array, idx: Int32Array, f: number, scatter: boolean): void {
  if (f >= 16 && src.buffer === dst.buffer) {
    // Both in one heap (tensors of the wasm backend): a memmove per row
    // through one view of the whole buffer, with no view object per row
    // (those made a quarter of a training step's JS garbage). That view
    // does not stop at src's or dst's end, so the rows are checked first.
    let top = -1;
    let low = 0;
    for (let k = 0; k < idx.length; k++) {
      top = Math.max(top, idx[k]!);
      low = Math.min(low, idx[k]!);
    }
    const [gathered, indexed] = scatter ? [src, dst] : [dst, src];
    if (idx.length * f > gathered.length || (top + 1) * f > indexed.length || low < 0) {
      throw new RangeError(`copyRows: rows out of range (${idx.length} rows of ${f}, largest index ${top}, arrays of ${src.length} and ${dst.length})`);
    }
    const heap = new Float32Array(src.buffer, 0, src.buffer.byteLength >> 2);
    const s0 = src.byteOffset >> 2;
    const d0 = dst.byteOffset >> 2;
    for (let k = 0; k < idx.length; k++) {
      const a = idx[k]! * f;
      if (scatter) heap.copyWithin(d0 + a, s0 + k * f, s0 + k * f + f);
      else heap.copyWithin(d0 + k * f, s0 + a, s0 + a + f);
    }
    return;
  }
  if (f >= 16) {
    // Separate buffers: block copies (memmove) beat an element loop for rows this long.
    for (let k = 0; k < idx.length; k++) {
      const a = idx[k]! * f;
      if (scatter) dst.set(src.subarray(k * f, k * f + f), a);
      else dst.set(src.subarray(a, a + f), k * f);
    }
    return;
  }
  for (let k = 0; k < idx.length; k++) {
    const a = idx[k]! * f;
    const b = k * f;
    if (scatter) for (let j = 0; j < f; j++) dst[a + j] = src[b + j]!;
    else for (let j = 0; j < f; j++) dst[b + j] = src[a + j]!;
  }
}

/** Rows `idx` of a [*, f] array, as a new [idx.length, f] array. */
export function takeRows(src: Float32Array, idx: Int32Array, f: number): Float32Array {
  const out = new Float32Array(idx.length * f);
  copyRows(src, out, idx, f, false);
  return out;
}

/** Row i of src ([idx.length, f]) to row idx[i] of dst. */
export function putRows(dst: Float32Array, src: Float32Array, idx: Int32Array, f: number): void {
  copyRows(src, dst, idx, f, true);
}
