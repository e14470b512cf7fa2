/**
 * The CTC loss (connectionist temporal classification) as Keras 3.15.1
 * computes it (`keras.losses.CTC`, `ops.ctc_loss`): yTrue holds label ids
 * [batch, maxLabels] with 0 both as the blank class and as label padding
 * (a row's label count is its number of nonzero ids), yPred holds logits
 * [batch, frames, classes]; the loss of a row is -log of the probability of
 * all alignments of its labels, by the forward recursion over frames in log
 * space (with Keras's -1e5 for log 0).
 *
 * Masque departure: the frames of a row are its valid steps. Keras counts
 * every frame of the padded batch (its `ctc` passes the full length; a mask
 * on yPred makes its loss reduction fail with a shape error), so padding
 * changes its answer. Here a masked frame leaves the recursion's state as it
 * was, and its logits, NaN included, reach neither the loss nor the
 * gradient: the loss of a row is Keras's `ops.ctc_loss` with the row's valid
 * frames, however much the batch is padded.
 */
import { tf, toBool } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { getMask } from '../engine/masks.js';
import { checkKeys } from '../option_keys.js';
import { checkLossTensors } from './losses.js';
import { oneHot } from '../ops/one_hot.js';

/** Keras's log of zero in the recursion. */
const LOG_ZERO = -1e5;

/** log(e^a + e^b), with the gradient split by the two terms' shares (also where a = b). */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const d = tf.sub(x, y);
    save([d]);
    return {
      value: tf.add(tf.maximum(x, y), tf.log1p(tf.exp(tf.neg(tf.abs(d))))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const share = tf.sigmoid(saved[0]!);
        return [tf.mul(dy, share), tf.mul(dy, tf.sub(1, share))];
      },
    };
  })(a, b);
}

/** phi[:, 1:] log-added with `added`; phi[:, 0] unchanged. */
function addToPhi(phi: tf.Tensor, added: tf.Tensor): tf.Tensor {
  const n = phi.shape[1]!;
  return tf.concat([tf.slice(phi, [0, 0], [-1, 1]), logAddExp(tf.slice(phi, [0, 1], [-1, n - 1]), added)], 1);
}

/** Checks the shapes and label ids; returns the label ids as int32, their values (row by row) and each row's label count. */
function checkCtcInputs(yTrue: tf.Tensor, yPred: tf.Tensor): { labels: tf.Tensor2D; ids: ArrayLike<number>; counts: Int32Array } {
  checkLossTensors('ctc', yTrue, yPred);
  if (yPred.rank !== 3) throw new MasqueError('INPUT_SHAPE_MISMATCH', `ctc: yPred must be logits [batch, frames, classes]; received ${formatShape(yPred.shape)}.`);
  const [b, , c] = yPred.shape as [number, number, number];
  if (yTrue.rank !== 2 || yTrue.shape[0] !== b || yTrue.shape[1]! < 1) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `ctc: yTrue must be label ids [batch, maxLabels] (maxLabels >= 1, 0 for padding) for yPred ${formatShape(yPred.shape)}; received ${formatShape(yTrue.shape)}.`);
  }
  const ids = yTrue.dataSync();
  const n = yTrue.shape[1]!;
  const counts = new Int32Array(b);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= c) {
      throw new MasqueError('INVALID_INPUT', `ctc: label ids must be integers in [0, ${c}) (0 is the blank and the padding); received ${v} at row ${Math.floor(i / n)}, position ${i % n}.`);
    }
    if (v !== 0) counts[Math.floor(i / n)]!++;
  }
  return { labels: (yTrue.dtype === 'int32' ? yTrue : tf.cast(yTrue, 'int32')) as tf.Tensor2D, ids, counts };
}

/**
 * The CTC loss of each row, [batch]. `frameMask` ([batch, frames], or null
 * for every frame) says which frames count; see the file comment.
 */
export function ctcLoss(yTrue: tf.Tensor, yPred: tf.Tensor, frameMask: tf.Tensor | null = null): tf.Tensor {
  return tf.tidy(() => {
    const { labels, ids, counts } = checkCtcInputs(yTrue, yPred);
    const [b, t, c] = yPred.shape as [number, number, number];
    const n = labels.shape[1];
    if (frameMask !== null && (frameMask.rank !== 2 || frameMask.shape[0] !== b || frameMask.shape[1] !== t)) {
      throw new MasqueError('MASK_SHAPE_MISMATCH', `ctc: the mask of yPred must be [batch, frames] = ${formatShape([b, t])}; received ${formatShape(frameMask.shape)}.`);
    }
    const valid = frameMask === null ? null : toBool(frameMask);
    // Masked frames are replaced before the softmax, with a select, so that NaN there reaches no gradient.
    const logits = valid === null ? yPred : tf.where(tf.expandDims(valid, 2), yPred, tf.zerosLike(yPred));
    const logProbs = tf.logSoftmax(logits, -1);
    // [B, T, N]: each frame's log-probability of each label position; [B, T, 1]: of the blank.
    const emit = tf.matMul(logProbs, oneHot(labels, c), false, true);
    const blank = tf.slice(logProbs, [0, 0, 0], [-1, -1, 1]);
    // 1 where a label equals the next one in its row (the labels read once, by the checks).
    const repeat = tf.tensor2d(Float32Array.from({ length: b * n }, (_, i) => (i % n < n - 1 && ids[i + 1] === ids[i] ? 1 : 0)), [b, n]);
    const emitNoRepeat = tf.mul(repeat, LOG_ZERO);
    const blankNoRepeat = tf.mul(tf.sub(1, repeat), LOG_ZERO);
    let phi: tf.Tensor = tf.concat([tf.zeros([b, 1]), tf.fill([b, n], LOG_ZERO)], 1);
    let em: tf.Tensor = tf.fill([b, n], LOG_ZERO);
    const emits = t === 0 ? [] : tf.unstack(emit, 1);
    const blanks = t === 0 ? [] : tf.unstack(blank, 1);
    const frames = valid === null || t === 0 ? [] : tf.unstack(tf.expandDims(valid, 2), 1);
    for (let s = 0; s < t; s++) {
      const e = emits[s]!;
      const p = blanks[s]!;
      // A label after itself needs a blank between: no emit-to-phi shortcut there.
      const phiIn = addToPhi(phi, tf.add(em, emitNoRepeat));
      const nextEm = logAddExp(tf.add(tf.slice(phiIn, [0, 0], [-1, n]), e), tf.add(em, e));
      const nextPhi = addToPhi(tf.add(phiIn, p), tf.add(tf.add(em, p), blankNoRepeat));
      if (valid === null) {
        phi = nextPhi;
        em = nextEm;
      } else {
        phi = tf.where(frames[s]!, nextPhi, phi);
        em = tf.where(frames[s]!, nextEm, em);
      }
    }
    const last = addToPhi(phi, em);
    // The row's answer sits at its label count.
    return tf.neg(tf.sum(tf.mul(last, oneHot(tf.tensor1d(counts, 'int32'), n + 1)), 1));
  });
}

export interface CtcDecodeOptions {
  /** Valid frames of each row: a list or an int tensor [batch]. Default: from the mask attached to the input, else every frame. */
  sequenceLengths?: number[] | tf.Tensor | null;
  /** 'greedy' (the default) or 'beam_search'. */
  strategy?: 'greedy' | 'beam_search';
  /** Beam search: the paths kept per frame (default 100). */
  beamWidth?: number;
  /** Beam search: how many best paths to return (default 1, at most beamWidth). */
  topPaths?: number;
  /** Merge a frame's class into the previous frame's when they are equal (default true), before blanks are dropped. */
  mergeRepeated?: boolean;
  /** The blank class (default 0, as Keras's ops.ctc_decode and the CTC loss). */
  maskIndex?: number;
}

/** The most path entries (2 · beamWidth · classes · frames) a beam search may hold at once: 4e8 bytes. */
const BEAM_LIMIT = 1e8;

const DECODE_KEYS = ['sequenceLengths', 'strategy', 'beamWidth', 'topPaths', 'mergeRepeated', 'maskIndex'] as const;

/**
 * Keras's `ops.ctc_decode`. With `strategy: 'beam_search'` see
 * beamSearchDecode below. The greedy strategy (the default): per frame the most
 * likely class (the first of equal ones); frames past a row's length count
 * as blanks; with `mergeRepeated` a class equal to the previous frame's is
 * dropped; blanks are dropped; the rest move to the front. Returns Keras's
 * pair: the decoded ids [1, batch, frames] (int32, -1 after the last one)
 * and the scores [batch, 1], minus the sum of each row's largest values over
 * its valid frames (the log-probability of the path for log-probabilities).
 * Without `sequenceLengths` the valid frames are the mask of `inputs`: a
 * masked frame is skipped (a hole too), so a padded batch decodes as its rows
 * would alone.
 */
export function ctcDecode(inputs: tf.Tensor, options: CtcDecodeOptions = {}): [tf.Tensor3D, tf.Tensor2D] {
  const a = checkKeys(options ?? {}, DECODE_KEYS, 'ctcDecode');
  if (!(inputs instanceof tf.Tensor) || inputs.rank !== 3 || inputs.dtype === 'string') {
    throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: inputs must be probabilities or logits [batch, frames, classes]; received ${describe(inputs)}.`);
  }
  const [b, t, c] = inputs.shape as [number, number, number];
  const strategy = a['strategy'] ?? 'greedy';
  if (strategy !== 'greedy' && strategy !== 'beam_search') {
    throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: strategy must be 'greedy' or 'beam_search'; received ${describe(strategy)}.`);
  }
  const positive = (key: string, dflt: number): number => {
    const v = a[key] ?? dflt;
    if (!Number.isInteger(v) || (v as number) < 1) throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: ${key} must be a positive integer; received ${describe(v)}.`);
    return v as number;
  };
  const beamWidth = positive('beamWidth', 100);
  const topPaths = positive('topPaths', 1);
  if (topPaths > beamWidth) throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: topPaths (${topPaths}) must be at most beamWidth (${beamWidth}).`);
  if (strategy === 'greedy' && (a['beamWidth'] !== undefined || a['topPaths'] !== undefined)) {
    throw new MasqueError('INVALID_ARGUMENT', "ctcDecode: beamWidth and topPaths are options of strategy 'beam_search'; the greedy decoder returns one path.");
  }
  const merge = a['mergeRepeated'] ?? true;
  if (typeof merge !== 'boolean') throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: mergeRepeated must be true or false; received ${describe(merge)}.`);
  const blank = a['maskIndex'] ?? 0;
  if (!Number.isInteger(blank) || (blank as number) < 0 || (blank as number) >= c) {
    throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: maskIndex must be a class in [0, ${c}); received ${describe(blank)}.`);
  }
  const valid = validFrames(a['sequenceLengths'], inputs, b, t);
  if (strategy === 'beam_search') {
    // Each frame extends 2 * beamWidth paths of `frames` ids by every class.
    if (2 * beamWidth * c * t > BEAM_LIMIT) {
      throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: beam search with beamWidth ${beamWidth} over ${c} classes and ${t} frames would hold ${2 * beamWidth * c * t} path entries at once; at most ${BEAM_LIMIT}. Use a smaller beamWidth.`);
    }
    if (a['mergeRepeated'] === false) throw new MasqueError('INVALID_ARGUMENT', "ctcDecode: mergeRepeated: false is an option of the greedy decoder; beam search always merges repeats (as Keras's).");
    return beamSearchDecode(inputs, valid, beamWidth, topPaths, blank as number);
  }
  const [ids, best] = tf.tidy(() => {
    const x = inputs.dtype === 'float32' ? inputs : tf.cast(inputs, 'float32');
    return [tf.argMax(x, -1).dataSync(), tf.max(x, -1).dataSync()];
  });
  const decoded = new Int32Array(b * t).fill(-1);
  const scores = new Float32Array(b);
  for (let r = 0; r < b; r++) {
    let out = 0;
    let prev = -1;
    let sum = 0;
    for (let s = 0; s < t; s++) {
      // A masked frame is skipped, as if the row had no such frame (past a row's length this is Keras's blank).
      if (!valid[r * t + s]) continue;
      const id = ids[r * t + s]!;
      sum += best[r * t + s]!;
      const repeated = merge && id === prev;
      prev = id;
      if (id !== blank && !repeated) decoded[r * t + out++] = id;
    }
    scores[r] = -sum;
  }
  return [tf.tensor3d(decoded, [1, b, t], 'int32'), tf.tensor2d(scores, [b, 1])];
}

/** Which frames count, [batch * frames]: the first `sequenceLengths[r]` of each row, else the input's mask, else all. */
function validFrames(given: unknown, inputs: tf.Tensor, b: number, t: number): Uint8Array {
  if (given === undefined || given === null) {
    const mask = getMask(inputs);
    if (mask === null) return new Uint8Array(b * t).fill(1);
    return Uint8Array.from(mask.dataSync());
  }
  const values = given instanceof tf.Tensor ? Array.from(given.dataSync()) : given;
  if (!Array.isArray(values) || values.length !== b || values.some((v) => !Number.isInteger(v) || v < 0 || v > t)) {
    throw new MasqueError('INVALID_ARGUMENT', `ctcDecode: sequenceLengths must be ${b} integers in [0, ${t}], one per row; received ${describe(given)}.`);
  }
  const out = new Uint8Array(b * t);
  values.forEach((n, r) => out.fill(1, r * t, r * t + (n as number)));
  return out;
}

/** Indices of `v` sorted by value, ascending, equal values in index order (numpy's stable argsort). */
function argsortStable(v: ArrayLike<number>): number[] {
  return Array.from({ length: v.length }, (_, i) => i).sort((i, j) => (v[i]! < v[j]! ? -1 : v[i]! > v[j]! ? 1 : i - j));
}

/** Lexicographic order of two paths (numpy's row order for np.unique). */
function comparePaths(p: Int32Array, q: Int32Array): number {
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return p[i]! - q[i]!;
  return 0;
}

/** The paths as numpy's unique over rows gives them (sorted, each once), and for each input path the index of its unique path. */
function uniquePaths(paths: Int32Array[]): { unique: Int32Array[]; inverse: Int32Array } {
  const order = Array.from({ length: paths.length }, (_, i) => i).sort((i, j) => comparePaths(paths[i]!, paths[j]!) || i - j);
  const unique: Int32Array[] = [];
  const inverse = new Int32Array(paths.length);
  for (const i of order) {
    if (unique.length === 0 || comparePaths(unique[unique.length - 1]!, paths[i]!) !== 0) unique.push(paths[i]!);
    inverse[i] = unique.length - 1;
  }
  return { unique, inverse };
}

/** Keras's _merge_scores in float32: log of the summed exp of each group's scores, by one global maximum; an empty group gives -Infinity. */
function mergeScores(inverse: Int32Array, scores: Float32Array, size: number): Float32Array {
  let max = -Infinity;
  for (const v of scores) max = Math.max(max, v);
  const sums = new Float32Array(size);
  scores.forEach((v, i) => (sums[inverse[i]!] = Math.fround(sums[inverse[i]!]! + Math.fround(Math.exp(Math.fround(v - max))))));
  return sums.map((v) => Math.fround(Math.log(v) + max));
}

function logAddExp32(a: number, b: number): number {
  const m = Math.max(a, b);
  return m === -Infinity ? -Infinity : Math.fround(m + Math.log1p(Math.exp(-Math.abs(a - b))));
}

/**
 * Keras 3.15.1's beam search (its numpy backend, the same on every
 * backend's contract), row by row in float32: log-softmax of the inputs;
 * the classes are searched in reversed order, as Keras does to match
 * TensorFlow's tie-breaking; each path keeps its score of ending in a
 * label and of ending in a blank; paths that end the same merge; the
 * beamWidth best survive each frame. Masked frames are skipped; the first
 * valid frame starts the search (a row without one decodes to nothing,
 * score 0). Returns the topPaths best paths [topPaths, batch, frames] (-1
 * after the last id) and their scores [batch, topPaths], the log-probability
 * of each path summed over its alignments.
 */
function beamSearchDecode(inputs: tf.Tensor, valid: Uint8Array, width: number, top: number, blank: number): [tf.Tensor3D, tf.Tensor2D] {
  const [b, t, c] = inputs.shape as [number, number, number];
  const logProbs = tf.tidy(() => tf.logSoftmax(inputs.dtype === 'float32' ? inputs : tf.cast(inputs, 'float32'), -1).dataSync() as Float32Array);
  const flippedBlank = c - 1 - blank;
  const decoded = new Int32Array(top * b * t).fill(-1);
  const scoresOut = new Float32Array(b * top);
  const n = 2 * width;
  for (let r = 0; r < b; r++) {
    // The row's valid frames, each with its classes reversed.
    const frames: Float32Array[] = [];
    for (let s = 0; s < t; s++) {
      if (!valid[r * t + s]) continue;
      const at = (r * t + s) * c;
      frames.push(Float32Array.from({ length: c }, (_, k) => logProbs[at + c - 1 - k]!));
    }
    if (frames.length === 0) continue;
    let paths = Array.from({ length: n }, () => new Int32Array(t).fill(-1));
    let scores = new Float32Array(n).fill(-Infinity);
    const first = frames[0]!;
    const starts = argsortStable(first).slice(c - Math.min(c, width));
    starts.forEach((k, i) => {
      paths[i]![0] = k === flippedBlank ? -1 : k;
      scores[i] = first[k]!;
    });
    let masked = paths.map((p) => p[0] === -1);
    for (const x of frames.slice(1)) {
      // Every path extended by every class.
      const cand: Int32Array[] = [];
      const candScores = new Float32Array(n * c);
      const candMasked: boolean[] = [];
      for (let p = 0; p < n; p++) {
        const path = paths[p]!;
        let tail = path.indexOf(-1);
        if (tail < 0) tail = 0;
        const last = tail === 0 ? -1 : path[tail - 1]!;
        for (let k = 0; k < c; k++) {
          let cls = k === flippedBlank ? -1 : k;
          candMasked.push(cls === -1);
          if (!masked[p] && last === cls) cls = -1;
          const next = path.slice();
          next[tail] = cls;
          cand.push(next);
          candScores[p * c + k] = Math.fround(scores[p]! + x[k]!);
        }
      }
      // Merge equal paths (separately by how they end), keep the best `width`.
      const { unique, inverse } = uniquePaths(cand);
      while (unique.length < n * c) unique.push(new Int32Array(t).fill(-1));
      const emit = mergeScores(inverse, candScores.map((v, i) => (candMasked[i] ? -Infinity : v)), n * c);
      const blankEnd = mergeScores(inverse, candScores.map((v, i) => (candMasked[i] ? v : -Infinity)), n * c);
      const total = emit.map((v, i) => logAddExp32(v, blankEnd[i]!));
      const best = argsortStable(total).slice(n * c - width);
      const kept = best.map((i) => unique[i]!);
      paths = [...kept.map((p) => p.slice()), ...kept.map((p) => p.slice())];
      scores = Float32Array.from([...best.map((i) => emit[i]!), ...best.map((i) => blankEnd[i]!)]);
      masked = [...best.map(() => false), ...best.map(() => true)];
    }
    const { unique, inverse } = uniquePaths(paths);
    const merged = mergeScores(inverse, scores, n);
    const order = argsortStable(merged).slice(n - top).reverse();
    order.forEach((u, j) => {
      const path = unique[u] ?? new Int32Array(t).fill(-1);
      path.forEach((v, s) => (decoded[(j * b + r) * t + s] = v === -1 ? -1 : c - 1 - v));
      scoresOut[r * top + j] = merged[u]!;
    });
  }
  return [tf.tensor3d(decoded, [top, b, t], 'int32'), tf.tensor2d(scoresOut, [b, top])];
}
