/**
 * The checks every recurrent layer (SimpleRNN, LSTM, GRU, RNN) makes at the
 * door: one sequence input [batch, time, features] with the built feature
 * size and at least one step, a [batch, time] mask, and initial states of
 * the right number and shapes. `where` names the layer in messages.
 */
import { tf, toBool } from '../../runtime/tfjs.js';
import type { MaskArg, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

/** Checks one sequence input [batch, time, features] (a tensor or a spec). */
export function checkSequenceInput<T extends { shape: Shape }>(inputs: T | T[], features: number, where: string): T {
  if (Array.isArray(inputs)) {
    throw new MasqueError(
      'INVALID_INPUT',
      `${where}: expected one sequence tensor [batch, time, features]; received a list of ${inputs.length} tensors. Pass initial states as { initialState: [...] }.`,
    );
  }
  const s = inputs.shape;
  if (s.length !== 3 || s[2] !== features) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected an input of shape [batch, time, ${features}]; received ${formatShape(s)}.`);
  }
  if (s[1] === 0) {
    // Keras fails too (its loop takes the last output of an empty sequence).
    throw new MasqueError(
      'INPUT_SHAPE_MISMATCH',
      `${where}: expected at least one time step; received ${formatShape(s)}. A batch padded to length 0 has no last output (Keras raises as well); pad to length >= 1 and mask the empty rows, which then output their initial state (or zeros).`,
    );
  }
  return inputs;
}

/** The feature size of a build shape [batch, time, features]; raises unless it is known. */
export function sequenceFeatures(inputShape: Shape | Shape[], where: string): number {
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  if (shape.length !== 3 || typeof shape[2] !== 'number') {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected an input of shape [batch, time, features] with known features; received ${formatShape(shape)}.`);
  }
  return shape[2];
}

/** Checks a mask shape against the input's [batch, time]. */
export function checkMaskShape(mask: Shape, x: Shape, where: string, got: string = formatShape(mask)): void {
  const fits = (d: number | null, want: number | null) => d === null || want === null || d === want;
  if (mask.length !== 2 || !fits(mask[0]!, x[0]!) || !fits(mask[1]!, x[1]!)) {
    throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: expected a mask of shape [batch, time] = ${formatShape(x.slice(0, 2))}; received ${got}.`);
  }
}

/** The call's mask as a bool [batch, time] tensor, or null. */
export function sequenceMask(maskArg: MaskArg | undefined, x: tf.Tensor, where: string): tf.Tensor2D | null {
  const mask = Array.isArray(maskArg) ? (maskArg[0] ?? null) : (maskArg ?? null);
  if (mask === null) return null;
  checkMaskShape(mask.shape, x.shape, where, describe(mask));
  return toBool(mask) as tf.Tensor2D;
}

/** A given initial state (one, a list, or nested lists per cell) as a flat list. */
export function flatStates<T>(given: T | readonly unknown[]): unknown[] {
  return Array.isArray(given) ? given.flatMap((g) => flatStates(g)) : [given];
}

/**
 * Checks initial states (tensors or specs; `isState` tells them from
 * anything else) against the state sizes: as many, each [batch, size].
 * `names` describes the states in messages (' (h, c)').
 */
export function checkStateShapes(given: unknown, sizes: number[], batch: number | null, isState: (s: unknown) => s is { shape: Shape }, where: string, names = ''): void {
  if (given === undefined || given === null) return;
  const list = flatStates(given);
  if (list.length !== sizes.length || !list.every(isState)) {
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `${where}: initialState must be ${sizes.length} tensor(s) of shape [batch, size] with sizes ${JSON.stringify(sizes)}${names}; received ${describe(list)}.`,
    );
  }
  (list as { shape: Shape }[]).forEach((s, i) => {
    const fits = s.shape.length === 2 && (s.shape[0] === batch || s.shape[0] === null || batch === null) && s.shape[1] === sizes[i];
    if (!fits) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: initialState[${i}] must have shape [batch, size] = ${formatShape([batch, sizes[i]!])}; received ${formatShape(s.shape)}.`);
    }
  });
}

export function isSpec(s: unknown): s is TensorSpec {
  return s !== null && typeof s === 'object' && Array.isArray((s as TensorSpec).shape);
}

/** The initial states of a call: the given ones (checked, float32) or zeros. */
export function initialStates(given: unknown, sizes: number[], batch: number, where: string, names = ''): tf.Tensor[] {
  if (given === undefined || given === null) return sizes.map((u) => tf.zeros([batch, u]));
  checkStateShapes(given, sizes, batch, (s): s is tf.Tensor => s instanceof tf.Tensor, where, names);
  return (flatStates(given) as tf.Tensor[]).map((s) => (s.dtype === 'float32' ? s : tf.cast(s, 'float32')));
}
