/**
 * The masked recurrence for any cell: a plain tfjs loop that calls a step
 * function once per processing step, differentiated by tfjs's autodiff.
 * `RNN` runs custom cells with it (built-in cells take `rnnSequence`).
 *
 * Keras 3.15.1 semantics, as `reference.ts`:
 * - steps run t = 0..T-1, or T-1..0 with `goBackwards`; the output sequence
 *   is returned in processing order;
 * - at a masked step every state is carried over and the output repeats
 *   the previous output, or is zero with `zeroOutputForMask`; before the
 *   first valid step the previous output is the first initial state (of the
 *   last cell, for a stack) when it has the output's shape (zeros by
 *   default), else zeros. For a cell
 *   whose output is its first state (SimpleRNN, LSTM, GRU, most custom
 *   cells) this is Keras's rule "the output of a masked step is the carried
 *   first state";
 * - the last output is the last element of the output sequence.
 *
 * Masked steps never reach the cell with their values: their inputs are
 * replaced by zeros (so NaN or Inf in padding cannot reach a gradient), and
 * a step where every row is masked is skipped without calling the cell.
 */
import { tf } from '../../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../../errors.js';

/** One step of a cell: x [B, F] and the states (each [B, n]) -> [output [B, outputSize], new states]. */
export type CellStepFn = (x: tf.Tensor2D, states: tf.Tensor[]) => [tf.Tensor, tf.Tensor[]];

export interface StepLoopArgs {
  step: CellStepFn;
  /** [B, T, F] float32, T >= 1. */
  inputs: tf.Tensor3D;
  /** bool [B, T] (true = valid) or null. */
  mask: tf.Tensor2D | null;
  /** The cell's states, flat, each [B, n]. */
  initialStates: tf.Tensor[];
  goBackwards: boolean;
  zeroOutputForMask: boolean;
  returnSequences: boolean;
  /** Size of the cell's output (its last axis). */
  outputSize: number;
  /**
   * The state whose initial value is the output before the first valid step
   * (default 0; for a stack, the last cell's first state, as Keras takes
   * `states[-1][0]`). Used when it has the output's shape, else zeros.
   */
  outputStateIndex?: number;
  /** The cell, for error messages ("LSTMCell 'lstm_cell' of RNN 'rnn'"). */
  where: string;
}

/** Checks what a step returned: an output [B, outputSize] and as many states as it got, each of its state's shape. */
function checkStep(r: unknown, states: tf.Tensor[], b: number, outputSize: number, where: string): [tf.Tensor, tf.Tensor[]] {
  if (!Array.isArray(r) || r.length !== 2 || !(r[0] instanceof tf.Tensor)) {
    throw new MasqueError('INVALID_CONFIG', `${where}: call(x, states) must return [output, newStates]; it returned ${describe(r)}.`);
  }
  const [out, ns] = r as [tf.Tensor, unknown];
  const list = Array.isArray(ns) ? ns : [ns];
  if (!list.every((s) => s instanceof tf.Tensor) || list.length !== states.length) {
    throw new MasqueError('INVALID_CONFIG', `${where}: call(x, states) must return ${states.length} new state(s) (as declared by stateSize); it returned ${describe(ns)}.`);
  }
  if (out.rank !== 2 || out.shape[0] !== b || out.shape[1] !== outputSize) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: the step output must have shape ${formatShape([b, outputSize])} (outputSize, else the first stateSize); it has ${formatShape(out.shape)}.`);
  }
  (list as tf.Tensor[]).forEach((s, i) => {
    if (s.shape.length !== states[i]!.shape.length || s.shape.some((d, k) => d !== states[i]!.shape[k])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: new state ${i} must have shape ${formatShape(states[i]!.shape)} (stateSize); it has ${formatShape(s.shape)}.`);
    }
  });
  const f32 = (t: tf.Tensor) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
  return [f32(out), (list as tf.Tensor[]).map(f32)];
}

/** The [B, F] slices of a [B, T, F] tensor along time (a reshape for T = 1: tfjs 4.22's one-output Unpack gradient throws). */
function timeSlices(x: tf.Tensor3D): tf.Tensor2D[] {
  const [b, t, f] = x.shape;
  return t === 1 ? [tf.reshape(x, [b, f])] : (tf.unstack(x, 1) as tf.Tensor2D[]);
}

/** Runs `step` over the sequence with Keras's masking; returns the output (sequence or last) and the final states. */
export function rnnStepLoop(a: StepLoopArgs): { output: tf.Tensor; states: tf.Tensor[] } {
  return tf.tidy(() => {
    const [b, t] = a.inputs.shape;
    let x: tf.Tensor3D = a.inputs;
    let valid: Uint8Array | null = null;
    let maskCols: tf.Tensor2D[] = [];
    if (a.mask !== null) {
      valid = a.mask.dataSync() as Uint8Array;
      x = tf.where(tf.expandDims(a.mask, 2), x, tf.zerosLike(x)) as tf.Tensor3D;
      maskCols = timeSlices(tf.expandDims(a.mask, 2) as tf.Tensor3D).map((m) => tf.reshape(m, [b, 1]) as tf.Tensor2D);
    }
    const xs = timeSlices(x);
    const zeros = tf.zeros([b, a.outputSize]);
    const h0 = a.initialStates[a.outputStateIndex ?? 0];
    let prev: tf.Tensor = h0 !== undefined && h0.rank === 2 && h0.shape[0] === b && h0.shape[1] === a.outputSize ? h0 : zeros;
    let states = a.initialStates;
    const outs: tf.Tensor[] = [];
    let calls = 0;
    for (let s = 0; s < t; s++) {
      const ti = a.goBackwards ? t - 1 - s : s;
      let n = b;
      if (valid !== null) {
        n = 0;
        for (let r = 0; r < b; r++) n += valid[r * t + ti]!;
      }
      const carried = a.zeroOutputForMask ? zeros : prev;
      let out: tf.Tensor;
      if (n === 0) {
        out = carried;
      } else {
        const [o, ns] = checkStep(a.step(xs[ti]!, states), states, b, a.outputSize, a.where);
        calls++;
        if (n === b) {
          out = o;
          states = ns;
        } else {
          const m = maskCols[ti]!;
          out = tf.where(m, o, carried);
          states = ns.map((st, i) => tf.where(m, st, states[i]!));
        }
      }
      prev = out;
      if (a.returnSequences || s === t - 1) outs.push(out);
    }
    let output = a.returnSequences ? tf.stack(outs, 1) : tf.clone(outs[outs.length - 1]!);
    // No valid step (or a zero last output): the output depends on neither the inputs nor the initial states; keep them connected (gradient zero) as the fused path does.
    if (calls === 0 || (!a.returnSequences && outs[0] === zeros)) output = tf.add(output, tf.mul(tf.addN([tf.sum(x), ...a.initialStates.map((st) => tf.sum(st))]), 0));
    return { output, states: states.map((st) => (a.initialStates.includes(st) ? tf.clone(st) : st)) };
  });
}
