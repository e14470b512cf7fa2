/**
 * `fit({ classWeight })`: Keras's class weights, turned into per-sample
 * weights batch by batch, as Keras's data adapter turns them into
 * `sample_weight` (so the loss and the weightedMetrics use them, and the
 * validation data does not).
 *
 * The class of a target: its argmax for one-hot targets, else its value
 * rounded half to even (numpy's round), as Keras's
 * `class_weight_to_sample_weights`; a class missing from the table weighs 1.
 * Keras decides from y alone and so takes the argmax of per-step ids
 * [B, T] over the steps; Masque compares y with the model's output shape,
 * so per-step targets (ids [B, T] against an output [B, T, C], one-hot
 * [B, T, C]) get one weight per step. Masked steps stay at weight 0: the
 * output mask multiplies these weights in the loss and in the metrics.
 * As Keras: one model output only, and not together with sampleWeight.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';

/** Class index -> weight, as Keras's `class_weight` dict: `{ 0: 1, 1: 5 }`. */
export type ClassWeight = Record<number, number>;

/** `classWeight` checked: keys are integer class indices, values finite numbers >= 0. */
export function checkClassWeight(v: unknown, where: string): Map<number, number> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof tf.Tensor) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: classWeight must be an object from class index to weight, such as { 0: 1, 1: 5 }; received ${describe(v)}.`);
  }
  const table = new Map<number, number>();
  for (const [key, w] of Object.entries(v)) {
    const k = Number(key);
    if (!/^-?\d+$/.test(key) || !Number.isSafeInteger(k)) throw new MasqueError('INVALID_ARGUMENT', `${where}: classWeight keys must be class indices (integers); received '${key}'.`);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: classWeight of class ${key} must be a finite number >= 0; received ${describe(w)}.`);
    table.set(k, w);
  }
  return table;
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The weights for targets `y` of an output of shape `outputShape` (null when
 * unknown: then Keras's rule from y alone). Shape: y's without its class axis.
 */
export function classWeightsFor(y: tf.Tensor, outputShape: readonly (number | null)[] | null, table: Map<number, number>, where: string): tf.Tensor {
  const last = y.rank > 1 ? y.shape[y.rank - 1]! : 0;
  let classAxis: 'argmax' | 'squeeze' | 'none';
  if (outputShape === null || outputShape === undefined) {
    classAxis = y.rank > 1 ? (last !== 1 ? 'argmax' : 'squeeze') : 'none';
  } else if (y.rank === outputShape.length) {
    classAxis = last !== 1 ? 'argmax' : 'squeeze';
  } else if (y.rank === outputShape.length - 1) {
    classAxis = 'none';
  } else {
    throw new MasqueError('INVALID_INPUT', `${where}: classWeight needs targets of the output's rank (one-hot or with a trailing 1) or one less (class ids); received targets ${formatShape(y.shape)} for an output ${formatShape(outputShape)}.`);
  }
  const values = y.dataSync();
  const width = classAxis === 'none' ? 1 : last;
  const n = values.length / width;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let cls: number;
    if (classAxis === 'argmax') {
      let best = 0;
      for (let c = 1; c < width; c++) if (values[i * width + c]! > values[i * width + best]!) best = c;
      cls = best;
    } else {
      cls = roundHalfEven(values[i * width]!);
    }
    out[i] = table.get(cls) ?? 1;
  }
  return tf.tensor(out, classAxis === 'none' ? y.shape : y.shape.slice(0, -1), 'float32');
}
