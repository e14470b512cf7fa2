import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';

/** Call-scoped state: the training flag inherited by nested calls. */
const trainingStack: boolean[] = [];

export function currentTraining(): boolean | undefined {
  return trainingStack.length > 0 ? trainingStack[trainingStack.length - 1] : undefined;
}

export function withTraining<T>(training: boolean, fn: () => T): T {
  trainingStack.push(training);
  try {
    return fn();
  } finally {
    trainingStack.pop();
  }
}

/**
 * Losses that layers add during a call (activity regularization), collected
 * by whoever asked for them: `collectLosses(fn)` runs `fn` and returns the
 * scalar losses added inside it, kept outside every `tidy` (the caller
 * disposes them). Outside a collection nothing is computed or kept.
 */
const lossStack: tf.Tensor[][] = [];

/** True when a caller is collecting layer losses (layers skip the work otherwise). */
export function collectingLosses(): boolean {
  return lossStack.length > 0;
}

/** Records a scalar loss for the innermost collection (kept past the enclosing `tidy`s); ignored outside one. */
export function recordLoss(loss: tf.Tensor): void {
  const top = lossStack[lossStack.length - 1];
  if (top === undefined) return;
  top.push(tf.keep(loss));
}

/** Runs `fn` and returns its result with the losses layers recorded during it, in call order. Frees them if `fn` throws. */
export function collectLosses<T>(fn: () => T): { result: T; losses: tf.Scalar[] } {
  if (typeof fn !== 'function') throw new MasqueError('INVALID_ARGUMENT', `collectLosses: expected a function to run; received ${describe(fn)}.`);
  const losses: tf.Tensor[] = [];
  lossStack.push(losses);
  try {
    const result = fn();
    return { result, losses: losses as tf.Scalar[] };
  } catch (e) {
    tf.dispose(losses);
    throw e;
  } finally {
    lossStack.pop();
  }
}
