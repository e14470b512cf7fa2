/**
 * The fused implementation of the masked recurrence: cost follows the real
 * tokens.
 *
 * 1. The mask becomes a plan (`plan.ts`): the valid tokens of each
 *    processing step.
 * 2. The inputs of the valid tokens only are gathered and projected with ONE
 *    matMul (x W + b), so padding costs neither projection nor recurrence.
 *    The gather is differentiable through a scatter (`gatherRows`), which the
 *    wasm backend supports (tf.gather's own gradient needs
 *    UnsortedSegmentSum, which wasm lacks).
 * 3. One kernel call (`asm/rnn_forward.ts`) runs the whole recurrence;
 *    under a gradient tape it saves gate activations, and `tf.customGrad`
 *    routes the backward pass to one call of `asm/rnn_backward.ts`, which
 *    returns the gradients of the projection, R, the GRU recurrent bias and
 *    the initial states. tfjs differentiates the projection and the gather.
 *
 * The recurrent dropout mask is applied inside the kernel; the input dropout
 * mask multiplies the gathered inputs.
 */
import { tf } from '../../engine/tfjs.js';
import { describe } from '../../errors.js';
import { buildPlan } from './plan.js';
import { rnnReference } from './reference.js';
import { rnnKernel, rnnKernelError } from './kernel.js';
import { kernelBackward, kernelForward, type KernelSpec } from './kernel_call.js';
import { fusedActivationId, type RnnPlanArgs, type RnnSequenceResult } from './types.js';

const KIND_ID = { lstm: 0, gru: 1, simple_rnn: 2 } as const;

/** Null when the fused kernel can run these arguments here, else the reason it cannot. */
export function fusedUnsupportedReason(a: Pick<RnnPlanArgs, 'kind' | 'activation' | 'recurrentActivation'>): string | null {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return `the fused kernel runs on the wasm and cpu backends; the active backend is ${describe(backend)}`;
  if (fusedActivationId(a.activation) < 0) return `activation ${describe(a.activation)} is not one of tanh, sigmoid, relu, linear`;
  if (a.kind !== 'simple_rnn' && fusedActivationId(a.recurrentActivation) < 0) {
    return `recurrentActivation ${describe(a.recurrentActivation)} is not one of tanh, sigmoid, relu, linear`;
  }
  if (rnnKernel() === null) return `the WebAssembly kernel could not be loaded synchronously (${rnnKernelError()}); await loadRnnKernel() first`;
  return null;
}

/** True when tfjs is recording a gradient tape (inside tf.grad, variableGrads, minimize). */
function tapeOn(): boolean {
  const e = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof e.isTapeOn === 'function' ? e.isTapeOn() : true;
}

const f32 = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** Rows `idx` of a [M, F] tensor, differentiable by a scatter-add of the gradient. */
function gatherRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const n = idx.length;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xt = args[0] as tf.Tensor;
    return {
      value: tf.gather(xt, tf.tensor1d(idx, 'int32')),
      gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(idx, [n, 1], 'int32'), dy, xt.shape),
    };
  })(x) as tf.Tensor2D;
}


/** Runs the recurrence kernel on the projected tokens; returns the packed [B, TOUT + states, U] result. */
function recurrence(s: KernelSpec, xp: tf.Tensor, r: tf.Tensor2D, rb: tf.Tensor1D | null, init: tf.Tensor2D[], grad: boolean): tf.Tensor3D {
  const k = rnnKernel()!;
  const { batch: b, n } = s.plan;
  const u = s.units;
  const nState = init.length;
  const shape: [number, number, number] = [b, (s.returnSequences ? s.plan.time : 1) + nState, u];
  if (!grad) {
    const fwd = kernelForward(k, s, f32(xp), f32(r), rb === null ? null : f32(rb), f32(init[0]!), nState > 1 ? f32(init[1]!) : null, false);
    return tf.tensor3d(fwd.packed, shape);
  }
  const inputs = [xp, r, ...(rb === null ? [] : [rb]), ...init];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const ts = args.slice(0, inputs.length) as tf.Tensor[];
    const at = rb === null ? 2 : 3;
    const rData = f32(ts[1]!).slice();
    const fwd = kernelForward(k, s, f32(ts[0]!), rData, rb === null ? null : f32(ts[2]!), f32(ts[at]!), nState > 1 ? f32(ts[at + 1]!) : null, true);
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const g = kernelBackward(k, s, rData, fwd.saved!, f32(dy));
      const out: tf.Tensor[] = [tf.tensor2d(g.dxp, [n, s.gates * u]), tf.tensor2d(g.dr, [u, s.gates * u])];
      if (rb !== null) out.push(tf.tensor1d(g.drb!));
      out.push(tf.tensor2d(g.dh0, [b, u]));
      if (nState > 1) out.push(tf.tensor2d(g.dc0!, [b, u]));
      return out;
    };
    return { value: tf.tensor3d(fwd.packed, shape), gradFunc };
  });
  return op(...inputs) as tf.Tensor3D;
}

/** The fused masked recurrence (call `fusedUnsupportedReason` first). Runs inside the caller's tidy. */
export function rnnFused(a: RnnPlanArgs): RnnSequenceResult {
  const { batch: b, time: t, features: f, units: u } = a;
  const plan = buildPlan(a.mask === null ? null : a.mask.dataSync(), b, t, a.goBackwards);
  // Every step of every row masked: nothing to compute; the reference gives
  // the (trivial) result with gradients connected to every argument.
  if (plan.n === 0) return rnnReference(a);
  const grad = tapeOn();
  const x2d = tf.reshape(a.inputs, [b * t, f]) as tf.Tensor2D;
  let xc: tf.Tensor = grad ? gatherRows(x2d, plan.tokens) : tf.gather(x2d, tf.tensor1d(plan.tokens, 'int32'));
  if (a.inputDropoutMask !== null) xc = tf.mul(xc, tf.gather(a.inputDropoutMask, tf.tensor1d(plan.rows, 'int32')));
  let xp = tf.matMul(xc, a.kernel);
  if (a.inputBias !== null) xp = tf.add(xp, a.inputBias);
  const spec: KernelSpec = {
    kind: KIND_ID[a.kind],
    resetAfter: a.resetAfter,
    act: fusedActivationId(a.activation),
    ract: a.kind === 'simple_rnn' ? 0 : fusedActivationId(a.recurrentActivation),
    units: u,
    gates: a.gates,
    returnSequences: a.returnSequences,
    zeroOutputForMask: a.zeroOutputForMask,
    plan,
    rdm: a.recurrentDropoutMask === null ? null : f32(a.recurrentDropoutMask),
    hasRecurrentBias: a.recurrentBias !== null,
  };
  const packed = recurrence(spec, xp, a.recurrentKernel, a.recurrentBias, a.initialStates, grad);
  const tOut = a.returnSequences ? t : 1;
  const output = a.returnSequences ? tf.slice(packed, [0, 0, 0], [b, t, u]) : tf.reshape(tf.slice(packed, [0, 0, 0], [b, 1, u]), [b, u]);
  const states = a.initialStates.map((_, i) => tf.reshape(tf.slice(packed, [0, tOut + i, 0], [b, 1, u]), [b, u]) as tf.Tensor2D);
  return { output, states };
}
