/**
 * The masked recurrent loop (SimpleRNN, LSTM, GRU) as one op with Keras
 * 3.15.1 semantics. Two implementations give the same numbers:
 * `reference` (plain tfjs ops per step, any backend) and `fused` (one
 * WebAssembly SIMD call for the whole forward recurrence and one for its
 * backward pass, skipping masked steps; wasm and cpu backends).
 */
import { tf } from '../../runtime/tfjs.js';
import { MasqueError, describe } from '../../errors.js';
import { checkRnnArgs, type RnnSequenceArgs, type RnnSequenceResult } from './types.js';
import { rnnReference } from './reference.js';
import { fusedUnsupportedReason, rnnFused, rnnFusedConcatReversed, rnnFusedMany } from './fused.js';
import { concatReversed } from '../sequence_ops.js';
import { expectConcurrentCalls, recurrenceWork } from './parallel.js';

export type { RnnCellKind, RnnSequenceArgs, RnnSequenceResult } from './types.js';
export { rnnReference } from './reference.js';
export { fusedUnsupportedReason } from './fused.js';
export { setProjectionTables, releaseProjectionTables, projectionTableStats, type ProjectionTableSettings } from './projection_table.js';

/**
 * Runs a masked recurrent layer over a whole sequence.
 *
 * Returns `output` ([B, T, U] in processing order with `returnSequences`,
 * else [B, U], the last element of that sequence) and the final `states`
 * (LSTM [h, c], others [h]). Gradients flow to inputs, kernel,
 * recurrentKernel, bias and initialStates.
 *
 * `implementation: 'auto'` (default) takes the fused kernel when
 * `fusedUnsupportedReason(args)` is null, else the reference.
 */
export function rnnSequence(a: RnnSequenceArgs): RnnSequenceResult {
  const impl = a.implementation ?? 'auto';
  if (impl !== 'auto' && impl !== 'reference' && impl !== 'fused') {
    throw new MasqueError('INVALID_ARGUMENT', `rnnSequence: implementation must be 'auto', 'reference' or 'fused'; received ${describe(impl)}.`);
  }
  return tf.tidy(() => {
    const p = checkRnnArgs(a);
    if (impl === 'reference') return rnnReference(p);
    const why = fusedUnsupportedReason(p);
    if (why === null) return rnnFused(p);
    if (impl === 'fused') throw new MasqueError('INVALID_ARGUMENT', `rnnSequence: implementation 'fused' is not available here: ${why}.`);
    return rnnReference(p);
  });
}

/** Wakes the kernel's helper threads ahead of recurrences that will run at once on them (`expectConcurrentCalls`), from the first one's shapes (every token counted as valid). */
function wakeHelpersFor(list: RnnSequenceArgs[]): void {
  // Before the arguments are checked: anything unexpected just skips the wake-up (checkRnnArgs reports it).
  const a = Array.isArray(list) ? list[0] : undefined;
  if (a?.inputs?.rank !== 3 || a.recurrentKernel?.rank !== 2) return;
  const [b, t, f] = a.inputs.shape as [number, number, number];
  const [u, gu] = a.recurrentKernel.shape as [number, number];
  expectConcurrentCalls(list.length, recurrenceWork(b * t, gu, f, u));
}

/**
 * Runs several independent recurrences over the same inputs' batch (the two
 * directions of a Bidirectional layer); the same results as `rnnSequence`
 * on each. When all take the fused kernel with the same batch, length,
 * units and kind, their kernel calls run at once, one per thread (forward
 * and backward).
 */
export function rnnSequences(list: RnnSequenceArgs[]): RnnSequenceResult[] {
  wakeHelpersFor(list);
  return tf.tidy(() => {
    const checked = list.map((a) => {
      const impl = a.implementation ?? 'auto';
      return impl === 'auto' || impl === 'fused' ? checkRnnArgs(a) : null;
    });
    if (list.length < 2 || checked.some((p) => p === null || fusedUnsupportedReason(p) !== null)) return list.map(rnnSequence);
    return rnnFusedMany(checked as NonNullable<(typeof checked)[number]>[]);
  }) as RnnSequenceResult[];
}

/**
 * Two recurrences returning sequences (a Bidirectional layer's directions)
 * merged as `concatReversed(first.output, second.output)`: the second
 * sequence flipped in time and concatenated on the last axis. The same
 * numbers as `rnnSequences` then `concatReversed`; in inference on the
 * fused kernel the kernels' rows are copied straight into the merged
 * output. Returns the merged output and each recurrence's final states.
 */
export function rnnSequencesConcatReversed(list: [RnnSequenceArgs, RnnSequenceArgs]): { output: tf.Tensor; states: tf.Tensor[][] } {
  wakeHelpersFor(list);
  return tf.tidy(() => {
    const checked = list.map((a) => ((a.implementation ?? 'auto') === 'reference' ? null : checkRnnArgs(a)));
    if (checked.every((p) => p !== null && fusedUnsupportedReason(p) === null)) {
      const r = rnnFusedConcatReversed(checked as [NonNullable<(typeof checked)[0]>, NonNullable<(typeof checked)[0]>]);
      if (r !== null) return r;
    }
    const [f, b] = rnnSequences(list);
    return { output: concatReversed(f!.output, b!.output), states: [f!.states, b!.states] };
  });
}
