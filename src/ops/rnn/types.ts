/**
 * Arguments of the masked recurrent loop and their checks. Both
 * implementations (`reference.ts`, `fused.ts`) receive the checked,
 * normalised form `RnnPlanArgs`.
 */
import { tf, toBool } from '../../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { activationName, type ActivationSpec } from '../activations.js';
import { ACT } from '../../generated/rnn_kernel_abi.js';

export type RnnCellKind = 'lstm' | 'gru' | 'simple_rnn';

/** Arguments of `rnnSequence` (Keras names, camelCase). */
export interface RnnSequenceArgs {
  kind: RnnCellKind;
  /** [B, T, F] float32. */
  inputs: tf.Tensor;
  /** [F, G*U]; G = 4 (lstm: i, f, c, o), 3 (gru: z, r, h), 1 (simple_rnn). */
  kernel: tf.Tensor;
  /** [U, G*U]. */
  recurrentKernel: tf.Tensor;
  /** lstm [4U]; gru [2, 3U] (input bias, recurrent bias) with resetAfter, else [3U]; simple_rnn [U]; or null. */
  bias: tf.Tensor | null;
  /** GRU only: reset gate after the recurrent matmul (Keras default true). */
  resetAfter?: boolean;
  /** Keras activation name (default 'tanh') or a function. */
  activation?: ActivationSpec;
  /** LSTM and GRU gates (default 'sigmoid'). */
  recurrentActivation?: ActivationSpec;
  /** bool [B, T], true = valid; any pattern (holes allowed); null = every step valid. */
  mask: tf.Tensor | null;
  /** lstm [h0, c0]; gru and simple_rnn [h0]; each [B, U]. */
  initialStates: tf.Tensor[];
  goBackwards: boolean;
  zeroOutputForMask: boolean;
  returnSequences: boolean;
  /** [B, F], multiplied into the inputs of every step (one dropout mask per sequence, shared by all gates). */
  inputDropoutMask?: tf.Tensor | null;
  /** [B, U], multiplied into h_{t-1} before the recurrent matmul (shared by all gates). */
  recurrentDropoutMask?: tf.Tensor | null;
  /** 'auto' (default): fused when supported (wasm or cpu backend, activations tanh/sigmoid/relu/linear), else reference. */
  implementation?: 'auto' | 'reference' | 'fused';
}

/** Result: `output` is [B, T, U] in processing order with `returnSequences`, else [B, U]; `states` are the final states. */
export type RnnSequenceResult = {
  output: tf.Tensor;
  states: tf.Tensor2D[];
};

/** Checked and normalised arguments shared by both implementations. */
export interface RnnPlanArgs {
  kind: RnnCellKind;
  inputs: tf.Tensor3D;
  kernel: tf.Tensor2D;
  recurrentKernel: tf.Tensor2D;
  /** Bias added to the input projection ([G*U]) or null. */
  inputBias: tf.Tensor1D | null;
  /** GRU with resetAfter: bias added to h @ R ([3U]) or null. */
  recurrentBias: tf.Tensor1D | null;
  resetAfter: boolean;
  activation: ActivationSpec;
  recurrentActivation: ActivationSpec;
  mask: tf.Tensor2D | null;
  initialStates: tf.Tensor2D[];
  goBackwards: boolean;
  zeroOutputForMask: boolean;
  returnSequences: boolean;
  inputDropoutMask: tf.Tensor2D | null;
  recurrentDropoutMask: tf.Tensor2D | null;
  batch: number;
  time: number;
  features: number;
  units: number;
  gates: number;
}

/** Number of gates stacked in the kernel columns. */
export const GATES: Record<RnnCellKind, number> = { lstm: 4, gru: 3, simple_rnn: 1 };

function fail(code: 'INVALID_ARGUMENT' | 'INPUT_SHAPE_MISMATCH' | 'MASK_SHAPE_MISMATCH', msg: string): never {
  throw new MasqueError(code, `rnnSequence: ${msg}`);
}

function expectShape(name: string, t: tf.Tensor | null | undefined, shape: number[]): void {
  if (!(t instanceof tf.Tensor)) fail('INVALID_ARGUMENT', `${name} must be a tensor of shape ${formatShape(shape)}; received ${describe(t)}.`);
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail('INPUT_SHAPE_MISMATCH', `${name} must have shape ${formatShape(shape)}; received ${formatShape(t.shape)}.`);
  }
}

function asFloat<T extends tf.Tensor>(t: T): T {
  return (t.dtype === 'float32' ? t : tf.cast(t, 'float32')) as T;
}

/**
 * Checks every argument against the shapes implied by `inputs` and
 * `recurrentKernel` and splits the bias into its input and recurrent parts.
 * Casts that it makes are new tensors; call it inside `tidy`.
 */
export function checkRnnArgs(a: RnnSequenceArgs): RnnPlanArgs {
  if (!(a.kind in GATES)) fail('INVALID_ARGUMENT', `kind must be one of 'lstm', 'gru', 'simple_rnn'; received ${describe(a.kind)}.`);
  const g = GATES[a.kind];
  if (!(a.inputs instanceof tf.Tensor) || a.inputs.rank !== 3) {
    fail('INPUT_SHAPE_MISMATCH', `inputs must be a tensor of shape [batch, time, features]; received ${describe(a.inputs)}.`);
  }
  const [batch, time, features] = a.inputs.shape as [number, number, number];
  if (time === 0) {
    fail(
      'INPUT_SHAPE_MISMATCH',
      `inputs must have at least one time step; received shape ${formatShape(a.inputs.shape)}. A sequence of length 0 has no last output (Keras raises as well); pad to length >= 1 and mask the empty rows.`,
    );
  }
  if (!(a.recurrentKernel instanceof tf.Tensor) || a.recurrentKernel.rank !== 2) {
    fail('INVALID_ARGUMENT', `recurrentKernel must be a tensor of shape [units, ${g} * units]; received ${describe(a.recurrentKernel)}.`);
  }
  const units = a.recurrentKernel.shape[0]!;
  expectShape(`recurrentKernel (${a.kind})`, a.recurrentKernel, [units, g * units]);
  expectShape(`kernel (${a.kind}, ${units} units)`, a.kernel, [features, g * units]);
  const resetAfter = a.kind === 'gru' ? a.resetAfter !== false : false;
  let inputBias: tf.Tensor1D | null = null;
  let recurrentBias: tf.Tensor1D | null = null;
  if (a.bias !== null && a.bias !== undefined) {
    if (resetAfter) {
      expectShape('bias (gru, resetAfter: true)', a.bias, [2, 3 * units]);
      const b = asFloat(a.bias);
      inputBias = tf.reshape(tf.slice(b, [0, 0], [1, 3 * units]), [3 * units]);
      recurrentBias = tf.reshape(tf.slice(b, [1, 0], [1, 3 * units]), [3 * units]);
    } else {
      expectShape(`bias (${a.kind})`, a.bias, [g * units]);
      inputBias = asFloat(a.bias) as tf.Tensor1D;
    }
  }
  let mask: tf.Tensor2D | null = null;
  if (a.mask !== null && a.mask !== undefined) {
    if (!(a.mask instanceof tf.Tensor) || a.mask.rank !== 2 || a.mask.shape[0] !== batch || a.mask.shape[1] !== time) {
      fail('MASK_SHAPE_MISMATCH', `mask must be a bool tensor of shape [batch, time] = ${formatShape([batch, time])}; received ${describe(a.mask)}.`);
    }
    mask = toBool(a.mask) as tf.Tensor2D;
  }
  const nStates = a.kind === 'lstm' ? 2 : 1;
  if (!Array.isArray(a.initialStates) || a.initialStates.length !== nStates) {
    fail('INVALID_ARGUMENT', `initialStates must hold ${nStates} tensor(s) of shape [batch, units] (${a.kind === 'lstm' ? 'h0, c0' : 'h0'}); received ${describe(a.initialStates)}.`);
  }
  a.initialStates.forEach((s, i) => expectShape(`initialStates[${i}]`, s, [batch, units]));
  const idm = a.inputDropoutMask ?? null;
  const rdm = a.recurrentDropoutMask ?? null;
  if (idm !== null) expectShape('inputDropoutMask', idm, [batch, features]);
  if (rdm !== null) expectShape('recurrentDropoutMask', rdm, [batch, units]);
  return {
    kind: a.kind,
    inputs: asFloat(a.inputs) as tf.Tensor3D,
    kernel: asFloat(a.kernel) as tf.Tensor2D,
    recurrentKernel: asFloat(a.recurrentKernel) as tf.Tensor2D,
    inputBias,
    recurrentBias,
    resetAfter,
    activation: a.activation === undefined ? 'tanh' : a.activation,
    recurrentActivation: a.recurrentActivation === undefined ? 'sigmoid' : a.recurrentActivation,
    mask,
    initialStates: a.initialStates.map((s) => asFloat(s) as tf.Tensor2D),
    goBackwards: a.goBackwards === true,
    zeroOutputForMask: a.zeroOutputForMask === true,
    returnSequences: a.returnSequences === true,
    inputDropoutMask: idm === null ? null : (asFloat(idm) as tf.Tensor2D),
    recurrentDropoutMask: rdm === null ? null : (asFloat(rdm) as tf.Tensor2D),
    batch,
    time,
    features,
    units,
    gates: g,
  };
}

/** Activation names the fused kernel implements, with their kernel ids (asm/kernel_abi.json). */
export const FUSED_ACTIVATIONS: Readonly<Record<string, number>> = ACT;

/** The fused kernel's id for an activation, or -1 when only the reference path can run it. */
export function fusedActivationId(spec: ActivationSpec): number {
  if (typeof spec === 'function') return -1;
  const name = activationName(spec);
  return name !== null && Object.hasOwn(FUSED_ACTIVATIONS, name) ? FUSED_ACTIVATIONS[name]! : -1;
}
