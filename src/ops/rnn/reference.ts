/**
 * The plain tfjs implementation of the masked recurrent loop: a few tfjs ops
 * per time step, differentiated by tfjs's autodiff. It is the semantic
 * reference for the fused kernel and the path for backends without it
 * (WebGL, WebGPU) or for activations the kernel does not implement.
 *
 * Keras 3.15.1 semantics (numpy backend, `unroll=False`):
 * - steps run in processing order s = 0..T-1 over time t = s, or t = T-1-s
 *   with `goBackwards`; the output sequence is returned in processing order;
 * - at a masked step every state is carried over and the output is the
 *   carried h (`states[0]`), or zeros with `zeroOutputForMask`. Before the
 *   first valid step the carried h is the initial state h0, so with zero
 *   initial states leading masked steps output zeros;
 * - the last output is the last element of the output sequence.
 */
import { tf } from '../../runtime/tfjs.js';
import { getActivation, type ActivationFn } from '../activations.js';
import { isTapeOn } from '../../runtime/internals.js';
import type { RnnPlanArgs, RnnSequenceResult } from './types.js';

interface StepWeights {
  r: tf.Tensor2D;
  rb: tf.Tensor1D | null;
  act: ActivationFn;
  recAct: ActivationFn;
  rdm: tf.Tensor2D | null;
  units: number;
  resetAfter: boolean;
}

/** One LSTM step: z = xp + hs @ R; gates i, f, c, o. Returns [h, c]. */
function lstmStep(xp: tf.Tensor2D, [h, c]: tf.Tensor2D[], w: StepWeights): tf.Tensor2D[] {
  const hs = w.rdm === null ? h! : tf.mul(h!, w.rdm);
  const z = tf.add(xp, tf.matMul(hs, w.r));
  const [zi, zf, zc, zo] = tf.split(z, 4, 1);
  const cNew = tf.add(tf.mul(w.recAct(zf!), c!), tf.mul(w.recAct(zi!), w.act(zc!))) as tf.Tensor2D;
  const hNew = tf.mul(w.recAct(zo!), w.act(cNew)) as tf.Tensor2D;
  return [hNew, cNew];
}

/** One GRU step, gates z, r, h; h = z * h_prev + (1 - z) * candidate. */
function gruStep(xp: tf.Tensor2D, [h]: tf.Tensor2D[], w: StepWeights): tf.Tensor2D[] {
  const u = w.units;
  const hs = w.rdm === null ? h! : tf.mul(h!, w.rdm);
  const [xz, xr, xh] = tf.split(xp, 3, 1);
  let cand: tf.Tensor;
  let z: tf.Tensor;
  if (w.resetAfter) {
    let inner: tf.Tensor = tf.matMul(hs, w.r);
    if (w.rb !== null) inner = tf.add(inner, w.rb);
    const [iz, ir, ih] = tf.split(inner, 3, 1);
    z = w.recAct(tf.add(xz!, iz!));
    const r = w.recAct(tf.add(xr!, ir!));
    cand = w.act(tf.add(xh!, tf.mul(r, ih!)));
  } else {
    const rzr = tf.slice(w.r, [0, 0], [u, 2 * u]);
    const rh = tf.slice(w.r, [0, 2 * u], [u, u]);
    const [iz, ir] = tf.split(tf.matMul(hs, rzr), 2, 1);
    z = w.recAct(tf.add(xz!, iz!));
    const r = w.recAct(tf.add(xr!, ir!));
    cand = w.act(tf.add(xh!, tf.matMul(tf.mul(r, hs), rh)));
  }
  const hNew = tf.add(tf.mul(z, h!), tf.mul(tf.sub(1, z), cand)) as tf.Tensor2D;
  return [hNew];
}

/** One SimpleRNN step: h = act(xp + hs @ R). */
function simpleStep(xp: tf.Tensor2D, [h]: tf.Tensor2D[], w: StepWeights): tf.Tensor2D[] {
  const hs = w.rdm === null ? h! : tf.mul(h!, w.rdm);
  return [w.act(tf.add(xp, tf.matMul(hs, w.r))) as tf.Tensor2D];
}

const STEPS = { lstm: lstmStep, gru: gruStep, simple_rnn: simpleStep };

/**
 * The [B, D] slices of a [B, T, D] tensor along time. `tf.unstack` is avoided
 * for T = 1: tfjs 4.22 hands the gradient of a one-output Unpack to `stack`
 * as a bare tensor, which throws ("must be a Tensor[]").
 */
function timeSlices(x: tf.Tensor3D): tf.Tensor2D[] {
  const [b, t, d] = x.shape;
  return t === 1 ? [tf.reshape(x, [b, d])] : (tf.unstack(x, 1) as tf.Tensor2D[]);
}

/** Runs the masked recurrence with plain tfjs ops (differentiable by tfjs). */
export function rnnReference(a: RnnPlanArgs): RnnSequenceResult {
  return tf.tidy(() => {
    const { batch: b, time: t, features: f, units: u, gates: g } = a;
    // Under a gradient tape a masked row reaches the cell as zeros (its input
    // and its states): its result is dropped, but on its own values it can be
    // NaN (NaN padding) or overflow (an exponential activation on the carried
    // state), and the zero gradient sent back into it would then be
    // 0 * NaN = NaN. Without a tape nothing flows back, so nothing changes.
    const guard = a.mask !== null && isTapeOn();
    let x: tf.Tensor = guard ? tf.where(tf.tile(tf.expandDims(a.mask!, 2), [1, 1, f]), a.inputs, tf.zerosLike(a.inputs)) : a.inputs;
    if (a.inputDropoutMask !== null) x = tf.mul(x, tf.expandDims(a.inputDropoutMask, 1));
    let proj: tf.Tensor = tf.matMul(tf.reshape(x, [b * t, f]), a.kernel);
    if (a.inputBias !== null) proj = tf.add(proj, a.inputBias);
    const xps = timeSlices(tf.reshape(proj, [b, t, g * u]));
    const masks = a.mask === null ? null : timeSlices(tf.tile(tf.expandDims(a.mask, 2), [1, 1, u]) as tf.Tensor3D);
    const w: StepWeights = {
      r: a.recurrentKernel,
      rb: a.recurrentBias,
      act: getActivation(a.activation, `rnnSequence (${a.kind}) activation`),
      recAct: getActivation(a.recurrentActivation, `rnnSequence (${a.kind}) recurrentActivation`),
      rdm: a.recurrentDropoutMask,
      units: u,
      resetAfter: a.resetAfter,
    };
    const step = STEPS[a.kind];
    let states = a.initialStates;
    const outs: tf.Tensor2D[] = [];
    let zeros: tf.Tensor2D | null = null;
    for (let s = 0; s < t; s++) {
      const ti = a.goBackwards ? t - 1 - s : s;
      const next = step(xps[ti]!, guard ? states.map((st) => tf.where(masks![ti]!, st, tf.zerosLike(st))) : states, w);
      let out = next[0]!;
      if (masks !== null) {
        const m = masks[ti]!;
        if (a.zeroOutputForMask) {
          zeros ??= tf.zeros([b, u]);
          out = tf.where(m, out, zeros);
        } else {
          out = tf.where(m, out, states[0]!);
        }
        states = next.map((ns, i) => tf.where(m, ns, states[i]!));
      } else {
        states = next;
      }
      if (a.returnSequences || s === t - 1) outs.push(out);
    }
    const output = a.returnSequences ? tf.stack(outs, 1) : outs[outs.length - 1]!;
    return { output, states };
  });
}
