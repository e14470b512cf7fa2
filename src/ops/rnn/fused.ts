/**
 * The fused implementation of the masked recurrence: cost follows the real
 * tokens.
 *
 * 1. The mask becomes a plan (`plan.ts`): the valid tokens of each
 *    processing step.
 * 2. The inputs of the valid tokens only are gathered and projected with ONE
 *    matMul (x W + b), so padding costs neither projection nor recurrence.
 *    The gather (in JavaScript) is differentiable through a scatter
 *    (`gatherRows`); the projection's gradient avoids tfjs's slow transposed
 *    matMul on wasm (`project`).
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

/** What `f32` reads of the wasm backend (tfjs-backend-wasm 4.22 internals). */
interface WasmBackendView {
  wasm?: { HEAPU8?: Uint8Array };
  dataIdMap?: { get(id: object): { memoryOffset: number } | undefined };
}

/**
 * The values of a float32 tensor for reading. On the wasm backend this is a
 * view of the backend's heap (no copy: `dataSync` would copy the whole
 * tensor, padding included); it is valid until the next tfjs op, so callers
 * consume it at once. Elsewhere `dataSync` (which the cpu backend does not
 * copy either).
 */
function f32(t: tf.Tensor): Float32Array {
  const b = tf.backend() as unknown as WasmBackendView;
  const heap = b.wasm?.HEAPU8;
  const d = t.dtype === 'float32' && heap !== undefined ? b.dataIdMap?.get(t.dataId) : undefined;
  if (d !== undefined && heap !== undefined && d.memoryOffset % 4 === 0) return new Float32Array(heap.buffer, d.memoryOffset, t.size);
  return t.dataSync() as Float32Array;
}

/** Copies row idx[k] of src ([*, f]) to row k of dst (or the reverse with `scatter`). */
function copyRows(src: Float32Array, dst: Float32Array, idx: Int32Array, f: number, scatter: boolean): void {
  for (let k = 0; k < idx.length; k++) {
    const a = idx[k]! * f;
    const b = k * f;
    if (scatter) for (let j = 0; j < f; j++) dst[a + j] = src[b + j]!;
    else for (let j = 0; j < f; j++) dst[b + j] = src[a + j]!;
  }
}

/**
 * Rows `idx` (distinct) of a [M, F] tensor, gathered in JavaScript (the
 * fused path runs on backends whose tensors live in CPU memory, where this
 * is several times faster than tf.gather). With `grad` it is differentiable:
 * the gradient scatters dy back into a zero [M, F] (tf.gather's own gradient
 * needs UnsortedSegmentSum, which wasm lacks).
 */
function gatherRows(x: tf.Tensor2D, idx: Int32Array, grad: boolean): tf.Tensor2D {
  const [m, f] = x.shape;
  const take = (xt: tf.Tensor): tf.Tensor2D => {
    const out = new Float32Array(idx.length * f);
    copyRows(f32(xt), out, idx, f, false);
    return tf.tensor2d(out, [idx.length, f]);
  };
  if (!grad) return take(x);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: take(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      const out = new Float32Array(m * f);
      copyRows(f32(dy), out, idx, f, true);
      return tf.tensor2d(out, [m, f]);
    },
  }))(x) as tf.Tensor2D;
}

/**
 * x W (+ b), differentiable. The gradient transposes explicitly: on the wasm
 * backend a matMul with a transpose flag (what tfjs's own MatMul gradient
 * issues) runs about 10x slower than a transpose plus a plain matMul.
 */
function project(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const inputs = b === null ? [x, w] : [x, w, b];
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, wt, bt] = args as tf.Tensor2D[];
    const save = args[inputs.length] as tf.GradSaveFunc;
    save([xt!, wt!]);
    const xw = tf.matMul(xt!, wt!);
    return {
      value: bt === undefined || b === null ? xw : tf.add(xw, bt),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as tf.Tensor2D[];
        const d2 = dy as tf.Tensor2D;
        const g = [tf.matMul(d2, tf.transpose(ws!)), tf.matMul(tf.transpose(xs!), d2)];
        if (b !== null) g.push(tf.sum(d2, 0));
        return g;
      },
    };
  })(...inputs) as tf.Tensor2D;
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
  let xc: tf.Tensor = gatherRows(x2d, plan.tokens, grad);
  if (a.inputDropoutMask !== null) xc = tf.mul(xc, tf.gather(a.inputDropoutMask, tf.tensor1d(plan.rows, 'int32')));
  let xp: tf.Tensor;
  if (grad) {
    xp = project(xc as tf.Tensor2D, a.kernel, a.inputBias);
  } else {
    xp = tf.matMul(xc, a.kernel);
    if (a.inputBias !== null) xp = tf.add(xp, a.inputBias);
  }
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
    rdm: a.recurrentDropoutMask === null ? null : f32(a.recurrentDropoutMask).slice(),
    hasRecurrentBias: a.recurrentBias !== null,
  };
  const packed = recurrence(spec, xp, a.recurrentKernel, a.recurrentBias, a.initialStates, grad);
  const tOut = a.returnSequences ? t : 1;
  const output = a.returnSequences ? tf.slice(packed, [0, 0, 0], [b, t, u]) : tf.reshape(tf.slice(packed, [0, 0, 0], [b, 1, u]), [b, u]);
  const states = a.initialStates.map((_, i) => tf.reshape(tf.slice(packed, [0, tOut + i, 0], [b, 1, u]), [b, u]) as tf.Tensor2D);
  return { output, states };
}
