/**
 * The fused implementation of the masked recurrence: cost follows the real
 * tokens.
 *
 * 1. The mask becomes a plan (`plan.ts`): the valid tokens of each
 *    processing step.
 * 2. The inputs of the valid tokens only are gathered (in JavaScript,
 *    differentiable through a scatter: `gatherRows`), so padding costs
 *    neither projection nor recurrence.
 * 3. One kernel call (`asm/rnn_forward.ts`) projects them in one product
 *    (x W + b) and runs the whole recurrence; under a gradient tape it saves
 *    gate activations, and `tf.customGrad` routes the backward pass to one
 *    call of `asm/rnn_backward.ts`, which returns the gradients of the
 *    gathered inputs, W, b, R, the GRU recurrent bias and the initial
 *    states. (The kernel's products also beat tfjs's matMul on wasm, whose
 *    transposed form, used by MatMul's gradient, is ~10x slower still.)
 *
 * The recurrent dropout mask is applied inside the kernel; the input dropout
 * mask multiplies the gathered inputs.
 *
 * In inference on an embedding lookup's output, steps 2 and 3's product are
 * replaced by rows of a precomputed projection table, when one pays
 * (projection_table.ts): the kernel gets each token's id, not its input.
 */
import { isTapeOn } from '../../runtime/internals.js';
import { tf } from '../../runtime/tfjs.js';
import { f32, markSparseRows, onCpuMemoryBackend, writeTensor } from '../heap_view.js';
import { MasqueError, describe } from '../../errors.js';
import { buildPlan, type StepPlan } from './plan.js';
import { copySteps, sliceSteps } from '../sequence_ops.js';
import { heapOps } from '../heap_ops.js';
import { copyRows } from './rows.js';
import { inputsPool, packedPool } from './buffer_pool.js';
import { rnnReference } from './reference.js';
import { rnnKernel, rnnKernelError } from './kernel.js';
import { packedSlots, type KernelInputs, type KernelSpec, type TensorInputName } from './kernel_call.js';
import { projectionTableFor, sweepProjectionTables } from './projection_table.js';
import { forwardCallsParts, forwardParts, parallelBackward, parallelBackwardCalls, parallelForward, parallelForwardCalls, type KernelCall, type PackedPart } from './parallel.js';
import { fusedActivationId, type RnnPlanArgs, type RnnSequenceResult } from './types.js';
import { KIND } from '../../generated/rnn_kernel_abi.js';

/** Null when the fused kernel can run these arguments here, else the reason it cannot. */
export function fusedUnsupportedReason(a: Pick<RnnPlanArgs, 'kind' | 'activation' | 'recurrentActivation'>): string | null {
  if (!onCpuMemoryBackend()) return `the fused kernel runs on the wasm and cpu backends; the active backend is ${describe(tf.getBackend())}`;
  if (fusedActivationId(a.activation) < 0) return `activation ${describe(a.activation)} is not one of tanh, sigmoid, relu, linear`;
  if (a.kind !== 'simple_rnn' && fusedActivationId(a.recurrentActivation) < 0) {
    return `recurrentActivation ${describe(a.recurrentActivation)} is not one of tanh, sigmoid, relu, linear`;
  }
  if (rnnKernel() === null) return `the WebAssembly kernel could not be loaded synchronously (${rnnKernelError()}); await loadRnnKernel() first`;
  return null;
}


/**
 * Rows `idx` (distinct) of `x` read as [M, F] rows of its last axis, as an
 * [N, F] tensor, gathered in JavaScript (the fused path runs on backends
 * whose tensors live in CPU memory, where this is several times faster than
 * tf.gather). With `grad` it is differentiable: the gradient scatters dy
 * back into zeros shaped like `x` (tf.gather's own gradient needs
 * UnsortedSegmentSum, which wasm lacks). `x` is read in place, not reshaped:
 * under a tape a reshape would save (copy) the whole padded input.
 */
function gatherRows(x: tf.Tensor, idx: Int32Array, grad: boolean): tf.Tensor2D {
  const f = x.shape[x.rank - 1]!;
  const shape = x.shape;
  const take = (xt: tf.Tensor): tf.Tensor2D => writeTensor([idx.length, f], 'float32', (out) => copyRows(f32(xt), out, idx, f, false)) as tf.Tensor2D;
  if (!grad) return take(x);
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: take(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      const dx = writeTensor(shape, 'float32', (out) => {
        out.fill(0);
        copyRows(f32(dy), out, idx, f, true);
      });
      markSparseRows(dx, idx, f);
      return dx;
    },
  }))(x) as tf.Tensor2D;
}

/**
 * A tensor holding a copy of `a` (a gradient: a view of kernel or shared
 * memory that the next kernel call overwrites; tf.tensor would keep the
 * array itself on the cpu backend).
 */
function tensorOf(a: Float32Array, shape: number[]): tf.Tensor {
  return writeTensor(shape, 'float32', (out) => out.set(a));
}

/**
 * Runs the kernel on the valid tokens' inputs `xc` [N, F] under a gradient
 * tape (inference takes `inferFused`): the projection xc W + b and the
 * recurrence in one forward call, and all gradients (xc, W, b, R, the GRU recurrent bias, initial states)
 * in one backward call. Returns the packed [B, TOUT + states, U] result.
 */
function recurrence(s: KernelSpec, a: RnnPlanArgs, xc: tf.Tensor2D): tf.Tensor3D {
  const k = rnnKernel()!;
  const { batch: b, n } = s.plan;
  const { units: u, features: f } = s;
  const g = s.gates * u;
  const shape: [number, number, number] = [b, packedSlots(s), u];
  const named: [string, tf.Tensor | null][] = [
    ['xc', xc], ['w', a.kernel], ['b', a.inputBias], ['r', a.recurrentKernel], ['rb', a.recurrentBias], ['h0', a.initialStates[0]!], ['c0', a.initialStates[1] ?? null],
  ];
  const present = named.filter(([, t]) => t !== null) as [TensorInputName, tf.Tensor][];
  const shapes: Record<TensorInputName, number[]> = { xc: [n, f], w: [f, g], b: [g], r: [u, g], rb: [g], h0: [b, u], c0: [b, u] };
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // Views of tfjs memory, valid until the next tfjs op: the kernel call reads them at once.
    const views = inputViews(present.map(([name], i) => [name, args[i] as tf.Tensor]));
    const fwd = parallelForward(k, s, views, true);
    // Kept for the backward pass (the views are valid only until the next
    // tfjs op). A split call kept its groups' inputs itself, so xc is not
    // copied again then.
    const x: KernelInputs = { ...views };
    for (const name of ['xc', 'w', 'b', 'r', 'rb', 'h0', 'c0'] as const) {
      const v = views[name];
      if (v !== null) x[name] = name === 'xc' && fwd.saved!.groups !== null ? new Float32Array(0) : v.slice();
    }
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const d = parallelBackward(k, s, x, fwd.saved!, f32(dy));
      const byName: Record<TensorInputName, Float32Array | null> = { xc: d.dxc, w: d.dw, b: d.db, r: d.dr, rb: d.drb, h0: d.dh0, c0: d.dc0 };
      return present.map(([name]) => tensorOf(byName[name]!, shapes[name]));
    };
    return { value: tf.tensor3d(fwd.packed, shape), gradFunc };
  })(...present.map(([, t]) => t)) as tf.Tensor3D;
}

/**
 * One call made ready for the kernel: its spec and the valid tokens'
 * inputs `xc`, or (inference fed by an embedding lookup, projection_table.ts)
 * their rows of a projection table instead.
 */
interface Prepared {
  a: RnnPlanArgs;
  spec: KernelSpec;
  xc: tf.Tensor2D | null;
  table: { xi: Int32Array; p: Float32Array; id: number } | null;
}

function prepare(a: RnnPlanArgs, plan: StepPlan, grad: boolean): Prepared {
  const spec: KernelSpec = {
    kind: KIND[a.kind],
    resetAfter: a.resetAfter,
    act: fusedActivationId(a.activation),
    ract: a.kind === 'simple_rnn' ? 0 : fusedActivationId(a.recurrentActivation),
    units: a.units,
    features: a.features,
    gates: a.gates,
    returnSequences: a.returnSequences,
    zeroOutputForMask: a.zeroOutputForMask,
    plan,
    rdm: a.recurrentDropoutMask === null ? null : f32(a.recurrentDropoutMask).slice(),
    hasRecurrentBias: a.recurrentBias !== null,
    hasInputBias: a.inputBias !== null,
  };
  if (grad) sweepProjectionTables();
  const table = grad ? null : projectionTableFor(a, plan);
  if (table !== null) return { a, spec, xc: null, table };
  let xc = gatherRows(a.inputs, plan.tokens, grad);
  if (a.inputDropoutMask !== null) xc = tf.mul(xc, gatherRows(a.inputDropoutMask, plan.rows, false));
  return { a, spec, xc, table: null };
}

/**
 * The output and states of a call from its packed result: rows
 * [row0, row0 + B) of `packed` (copies of the steps, ops/sequence_ops.ts:
 * tf.slice on wasm copies the whole packed tensor first).
 */
function results(a: RnnPlanArgs, packed: tf.Tensor3D, row0: number): RnnSequenceResult {
  const { batch: b, time: t, units: u } = a;
  const rows = { start: row0, count: b };
  const tOut = a.returnSequences ? t : 1;
  const output = a.returnSequences ? sliceSteps(packed, 0, t, rows) : tf.reshape(sliceSteps(packed, 0, 1, rows), [b, u]);
  const states = a.initialStates.map((_, i) => tf.reshape(sliceSteps(packed, tOut + i, 1, rows), [b, u]) as tf.Tensor2D);
  return { output, states };
}

/**
 * The output and states of an inference call from its packed parts, each
 * part's rows copied straight to their place (one block per row and
 * tensor): no packed tensor, no step-by-step slicing.
 */
function resultsFromParts(a: RnnPlanArgs, s: KernelSpec, parts: PackedPart[]): RnnSequenceResult {
  const { batch: b, units: u } = a;
  const slots = packedSlots(s);
  const tOut = a.returnSequences ? a.time : 1;
  const output = writeTensor(a.returnSequences ? [b, a.time, u] : [b, u], 'float32', slotsInto(parts, b, slots, u, 0, tOut));
  const states = a.initialStates.map((_, j) => writeTensor([b, u], 'float32', slotsInto(parts, b, slots, u, tOut + j, 1)) as tf.Tensor2D);
  for (const p of parts) packedPool.give(p.packed);
  return { output, states };
}

/** A writer of slots [first, first + count) of every row of packed parts ([B, slots, U] in all) into [B, count, U]. */
function slotsInto(parts: PackedPart[], b: number, slots: number, u: number, first: number, count: number): (out: Float32Array) => void {
  return (out) => {
    const w = count * u;
    for (const p of parts) {
      const n = p.rows === null ? b : p.rows.length;
      for (let i = 0; i < n; i++) {
        const at = (i * slots + first) * u;
        out.set(p.packed.subarray(at, at + w), (p.rows === null ? i : p.rows[i]!) * w);
      }
    }
  };
}

/** Kernel inputs holding `arrays` under `names`; the inputs not named are empty (or null). */
function kernelInputs(names: TensorInputName[], arrays: Float32Array[]): KernelInputs {
  const x: KernelInputs = { xc: new Float32Array(0), w: new Float32Array(0), b: null, r: new Float32Array(0), rb: null, h0: new Float32Array(0), c0: null };
  names.forEach((name, i) => (x[name] = arrays[i]!));
  return x;
}

/** Views of tfjs memory of a call's inputs: valid until the next tfjs op. */
function inputViews(inputs: [TensorInputName, tf.Tensor][]): KernelInputs {
  return kernelInputs(inputs.map(([name]) => name), inputs.map(([, t]) => f32(t)));
}

/**
 * An inference call's kernel inputs: views of tfjs memory, valid until the
 * next tfjs op (the kernel calls read them, or a helper gets a copy, before
 * any runs); with its table rows when it has them.
 */
function inferenceInputs(p: Prepared): KernelInputs {
  const x = inputViews(presentInputs(p.a, p.xc));
  return p.table === null ? x : { ...x, xi: p.table.xi, p: p.table.p, pid: p.table.id };
}

/** Inference (no tape): the kernel's forward pass on views of the inputs, in parts. */
function inferFused(p: Prepared): RnnSequenceResult {
  return resultsFromParts(p.a, p.spec, forwardParts(rnnKernel()!, p.spec, inferenceInputs(p)));
}

const planOf = (a: RnnPlanArgs): StepPlan => buildPlan(a.mask === null ? null : a.mask.dataSync(), a.batch, a.time, a.goBackwards);

/** The fused masked recurrence (call `fusedUnsupportedReason` first). Runs inside the caller's tidy. */
export function rnnFused(a: RnnPlanArgs): RnnSequenceResult {
  const plan = planOf(a);
  // Every step of every row masked: nothing to compute; the reference gives
  // the (trivial) result with gradients connected to every argument.
  if (plan.n === 0) return rnnReference(a);
  const grad = isTapeOn();
  const p = prepare(a, plan, grad);
  if (!grad) return inferFused(p);
  return results(a, recurrence(p.spec, a, p.xc!), 0);
}

/**
 * Several independent fused recurrences (the two directions of a
 * Bidirectional layer) over the same batch and units: their kernel calls
 * run at once, one per thread, when there are threads and work enough
 * (`parallelForwardCalls`), forward and backward. Same results as
 * `rnnFused` on each.
 */
export function rnnFusedMany(list: RnnPlanArgs[]): RnnSequenceResult[] {
  const plans = list.map(planOf);
  const first = list[0]!;
  const alike = list.every((a) => a.batch === first.batch && a.units === first.units && a.kind === first.kind && a.returnSequences === first.returnSequences && a.time === first.time);
  if (list.length < 2 || !alike || plans.some((p) => p.n === 0)) return list.map(rnnFused);
  const grad = isTapeOn();
  const preps = list.map((a, i) => prepare(a, plans[i]!, grad));
  if (!grad) {
    const calls = preps.map((p) => ({ spec: p.spec, x: inferenceInputs(p) }));
    const parts = forwardCallsParts(rnnKernel()!, calls);
    return preps.map((p, i) => resultsFromParts(p.a, p.spec, parts[i]!));
  }
  const packed = recurrenceMany(preps);
  return preps.map((p, i) => results(p.a, packed, i * first.batch));
}

/**
 * Two recurrences as in `rnnFusedMany` (a Bidirectional layer's directions,
 * returning sequences), in inference, with the output merged as
 * `concatReversed(first output, second output)`: each part's rows are
 * copied straight into [B, T, U1 + U2], the second sequence flipped in
 * time. Null where that does not apply (a gradient tape, unlike calls, a
 * call with no valid token): then run `rnnFusedMany` and merge.
 */
export function rnnFusedConcatReversed(list: [RnnPlanArgs, RnnPlanArgs]): { output: tf.Tensor; states: tf.Tensor2D[][] } | null {
  if (isTapeOn()) return null;
  const first = list[0];
  if (!list.every((a) => a.returnSequences && a.batch === first.batch && a.units === first.units && a.kind === first.kind && a.time === first.time)) return null;
  const plans = list.map(planOf);
  if (plans.some((p) => p.n === 0)) return null;
  const preps = list.map((a, i) => prepare(a, plans[i]!, false));
  const calls = preps.map((p) => ({ spec: p.spec, x: inferenceInputs(p) }));
  const parts = forwardCallsParts(rnnKernel()!, calls);
  const { batch: b, time: t, units: u } = first;
  const slots = packedSlots(preps[0]!.spec);
  const output = concatReversedParts(parts, b, t, u, slots);
  const states = preps.map((p, d) => p.a.initialStates.map((_, k) => writeTensor([b, u], 'float32', slotsInto(parts[d]!, b, slots, u, t + k, 1)) as tf.Tensor2D));
  for (const p of parts.flat()) packedPool.give(p.packed);
  return { output, states };
}

/**
 * [B, T, 2U] from two calls' packed parts ([B, slots, U] in all; JavaScript
 * arrays), the second call's steps flipped. When each call is one part of
 * every row and the heap kernels run, each call's part goes into the heap
 * in one copy and the heap kernel moves its rows; otherwise row by row here
 * (a view and a copy per row and step: ~1 ms per 256 x 20 batch, 4% of a
 * tagger's inference).
 */
function concatReversedParts(parts: PackedPart[][], b: number, t: number, u: number, slots: number): tf.Tensor {
  const w = 2 * u;
  if (heapOps() !== null && parts.every((list) => list.length === 1 && list[0]!.rows === null)) {
    const staged = parts.map((list) => writeTensor([b * slots * u], 'float32', (o) => o.set(list[0]!.packed)));
    try {
      return writeTensor([b, t, w], 'float32', (out) => staged.forEach((st, d) => copySteps(f32(st), slots, u, 0, 0, out, t, w, d * u, 0, b, t, u, d === 1)));
    } finally {
      tf.dispose(staged);
    }
  }
  return writeTensor([b, t, w], 'float32', (out) => {
    parts.forEach((list, d) => {
      for (const p of list) {
        const n = p.rows === null ? b : p.rows.length;
        for (let i = 0; i < n; i++) {
          const g = p.rows === null ? i : p.rows[i]!;
          for (let s = 0; s < t; s++) {
            const at = (i * slots + s) * u;
            out.set(p.packed.subarray(at, at + u), (g * t + (d === 0 ? s : t - 1 - s)) * w + d * u);
          }
        }
      }
    });
  });
}

/** A call's input tensors that are present, by name. */
function presentInputs(a: RnnPlanArgs, xc: tf.Tensor2D | null): [TensorInputName, tf.Tensor][] {
  const named: [TensorInputName, tf.Tensor | null][] = [
    ['xc', xc], ['w', a.kernel], ['b', a.inputBias], ['r', a.recurrentKernel], ['rb', a.recurrentBias], ['h0', a.initialStates[0]!], ['c0', a.initialStates[1] ?? null],
  ];
  return named.filter(([, t]) => t !== null) as [TensorInputName, tf.Tensor][];
}

/** Copies of a call's inputs (not heap views: the backward pass reads them again), in buffers of `inputsPool`. */
function ownedInputs(names: TensorInputName[], ts: tf.Tensor[]): KernelInputs {
  return kernelInputs(names, ts.map((t) => inputsPool.copyOf(f32(t))));
}

/** Gives the buffers of `ownedInputs` back to its pool. */
function releaseInputs(x: KernelInputs): void {
  for (const a of [x.xc, x.w, x.b, x.r, x.rb, x.h0, x.c0]) if (a !== null && a.length > 0) inputsPool.give(a);
}

/** The kernel calls of `preps` under a gradient tape (same batch, slots and units), at once where that pays; returns their packed results stacked: [calls * B, slots, U]. */
function recurrenceMany(preps: Prepared[]): tf.Tensor3D {
  const k = rnnKernel()!;
  const { batch: b, units: u } = preps[0]!.a;
  const slots = packedSlots(preps[0]!.spec);
  const shape: [number, number, number] = [preps.length * b, slots, u];
  const each = b * slots * u;
  const inputs = preps.map((p) => presentInputs(p.a, p.xc));
  const names = inputs.map((list) => list.map(([name]) => name));
  const stack = (packed: Float32Array[]) => writeTensor(shape, 'float32', (out) => packed.forEach((pk, i) => out.set(pk, i * each))) as tf.Tensor3D;
  const callsOf = (ts: tf.Tensor[]): KernelCall[] => {
    let at = 0;
    return preps.map((p, i) => {
      const x = ownedInputs(names[i]!, ts.slice(at, at + names[i]!.length));
      at += names[i]!.length;
      return { spec: p.spec, x };
    });
  };
  const flat = inputs.flatMap((list) => list.map(([, t]) => t));
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const calls = callsOf(args.slice(0, flat.length) as tf.Tensor[]);
    const fwd = parallelForwardCalls(k, calls, true);
    let done = false;
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      // The inputs' buffers go back to their pool below: a tape runs a node's gradient once.
      if (done) throw new MasqueError('LAYER_CALL_FAILED', 'the gradient of a fused recurrence was asked for twice for one forward pass; its saved inputs were released after the first. Run the forward pass again under a new tape.');
      done = true;
      // Views of dy in tfjs memory: read by the kernel calls (or copied to a helper) before any tfjs op runs.
      const d = f32(dy);
      const grads = parallelBackwardCalls(k, calls, fwd, preps.map((_, i) => d.subarray(i * each, (i + 1) * each)));
      // The gradients are views of kernel or shared memory: copied into tensors at once.
      const out = preps.flatMap((p, i) => {
        const { features: f, units: uu, gates, batch } = p.a;
        const g = gates * uu;
        const shapes: Record<TensorInputName, number[]> = { xc: [p.spec.plan.n, f], w: [f, g], b: [g], r: [uu, g], rb: [g], h0: [batch, uu], c0: [batch, uu] };
        const gr = grads[i]!;
        const byName: Record<TensorInputName, Float32Array | null> = { xc: gr.dxc, w: gr.dw, b: gr.db, r: gr.dr, rb: gr.drb, h0: gr.dh0, c0: gr.dc0 };
        return names[i]!.map((name) => tensorOf(byName[name]!, shapes[name]));
      });
      for (const c of calls) releaseInputs(c.x);
      return out;
    };
    const value = stack(fwd.packed);
    // Copied into the tensor: back to this thread's pool for the next step.
    for (const p of fwd.packed) packedPool.give(p);
    return { value, gradFunc };
  })(...flat) as tf.Tensor3D;
}
