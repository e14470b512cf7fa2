// The fused inference path of MultiHeadAttention and LayerNormalization (one
// WebAssembly kernel per packed group, and per layer-normalization call; see
// src/ops/fused_attention_ops.ts) against the tfjs ops it replaces, which
// still run whenever a gradient is recorded: the same outputs at every
// position, padded queries included, for self- and cross-attention, causal,
// pre-, post- and hole padding, empty rows, and unusual head sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, MultiHeadAttention, LayerNormalization } from '../src/index.js';
import { setAttentionPacking } from '../src/ops/packed_attention_ops.js';
import { setFusedInference, fusedInferenceAvailable } from '../src/ops/fused_attention_ops.js';
import { assertClose, normals, padRows, rng, type Layout } from './attention_helpers.js';

const onWasm = () => tf.getBackend() === 'wasm' && fusedInferenceAvailable();

/** Runs `f` with the fused kernels off. */
function unfused<T>(f: () => T): T {
  const prev = setFusedInference(false);
  try {
    return f();
  } finally {
    setFusedInference(prev);
  }
}

/** Counts the tfjs kernels `f` runs, by name. */
function kernelsOf(f: () => void): Map<string, number> {
  const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  const orig = engine.runKernel;
  const seen = new Map<string, number>();
  engine.runKernel = function (this: unknown, name: unknown, ...rest: unknown[]) {
    seen.set(name as string, (seen.get(name as string) ?? 0) + 1);
    return orig.call(this, name, ...rest);
  };
  try {
    f();
  } finally {
    engine.runKernel = orig;
  }
  return seen;
}

function batch(lengths: number[], t: number, f: number, layout: Layout, seed: number): { x: tf.Tensor; mask: tf.Tensor } {
  const r = rng(seed);
  const rows = lengths.map((l) => Array.from({ length: l }, () => normals(r, f)));
  const p = padRows(rows, t, layout, r, f);
  return { x: tf.tensor3d(p.x, [lengths.length, t, f]), mask: tf.tensor2d(p.mask, [lengths.length, t], 'bool') };
}

const cases = [
  { what: 'self, post', heads: 2, keyDim: 8, lengths: [5, 2, 7, 0, 7], t: 9, layout: 'post' as Layout, causal: false, cross: false, useBias: true },
  { what: 'self, pre, causal', heads: 3, keyDim: 5, valueDim: 6, lengths: [3, 6, 1, 6], t: 8, layout: 'pre' as Layout, causal: true, cross: false, useBias: false },
  { what: 'self, holes', heads: 1, keyDim: 7, lengths: [4, 1, 6], t: 7, layout: 'holes' as Layout, causal: false, cross: false, useBias: true, outputShape: 5 },
  { what: 'cross, post', heads: 2, keyDim: 4, lengths: [3, 5, 2], t: 6, layout: 'post' as Layout, causal: false, cross: true, useBias: true },
  { what: 'cross, pre, causal', heads: 2, keyDim: 6, lengths: [4, 2, 5], t: 6, layout: 'pre' as Layout, causal: true, cross: true, useBias: true },
];

test('MultiHeadAttention: the fused inference kernel gives the outputs of the tfjs packed and dense paths at every position', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  for (const c of cases) {
    const f = 6;
    const mha = new MultiHeadAttention({ numHeads: c.heads, keyDim: c.keyDim, valueDim: c.valueDim ?? null, useBias: c.useBias, outputShape: c.outputShape ?? null, kernelInitializer: { className: 'GlorotUniform', config: { seed: 3 } }, biasInitializer: { className: 'RandomNormal', config: { seed: 4 } } });
    const q = batch(c.lengths, c.t, f, c.layout, 11);
    const v = c.cross ? batch(c.lengths.map((l) => Math.min(c.t + 2, l + 2)), c.t + 2, f, c.layout, 12) : q;
    const call = () => mha.apply([q.x, v.x], { queryMask: q.mask, valueMask: v.mask, useCausalMask: c.causal }) as tf.Tensor;
    for (const mode of ['auto', 'always'] as const) {
      const prev = setAttentionPacking(mode);
      try {
        let fused: tf.Tensor | null = null;
        const kernels = kernelsOf(() => {
          fused = call();
        });
        // The fused path runs no softmax and no batched product of rank 4 (the logits).
        assert.equal(kernels.get('Softmax') ?? 0, 0, `${c.what}, ${mode}: the fused kernel did not run`);
        const ops = unfused(call);
        setAttentionPacking('never');
        const dense = unfused(call);
        assertClose(fused!.dataSync(), ops.dataSync(), 1e-5, `${c.what}, ${mode}: fused vs tfjs packed`);
        assertClose(fused!.dataSync(), dense.dataSync(), 1e-5, `${c.what}, ${mode}: fused vs dense`);
        tf.dispose([fused!, ops, dense]);
      } finally {
        setAttentionPacking(prev);
      }
    }
    tf.dispose([q.x, q.mask, v.x, v.mask]);
    mha.dispose();
  }
});

test('MultiHeadAttention: training takes the tfjs path (gradients), and inference leaks no tensor', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  const mha = new MultiHeadAttention({ numHeads: 2, keyDim: 4 });
  const q = batch([3, 5, 1], 6, 4, 'post', 5);
  mha.apply([q.x, q.x], { queryMask: q.mask, valueMask: q.mask }).dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) mha.apply([q.x, q.x], { queryMask: q.mask, valueMask: q.mask }).dispose();
  assert.equal(tf.memory().numTensors, before);
  const { value, grads } = tf.variableGrads(() => tf.sum(mha.apply([q.x, q.x], { queryMask: q.mask, valueMask: q.mask }) as tf.Tensor) as tf.Scalar);
  const plain = unfused(() => tf.sum(mha.apply([q.x, q.x], { queryMask: q.mask, valueMask: q.mask }) as tf.Tensor));
  assertClose(value.dataSync(), plain.dataSync(), 1e-5, 'the value under the tape');
  assert.ok(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite)));
  tf.dispose([value, plain, ...Object.values(grads), q.x, q.mask]);
  mha.dispose();
});

test('LayerNormalization: the fused inference kernel gives the outputs of the tfjs ops (center and scale on and off)', (t) => {
  if (!onWasm()) return t.skip('needs the wasm backend');
  const r = rng(21);
  // Nearly constant rows (mean 0.59, spread 0.0035) as well as ordinary rows.
  const x = tf.tensor3d(Array.from({ length: 4 * 5 * 10 }, (_, i) => (i < 50 ? 0.59 + 0.0035 * normals(r, 1)[0]! : 3 * normals(r, 1)[0]!)), [4, 5, 10]);
  for (const [center, scale] of [[true, true], [false, true], [true, false], [false, false]] as const) {
    const ln = new LayerNormalization({ center, scale, epsilon: 1e-3, gammaInitializer: { className: 'RandomNormal', config: { mean: 1, seed: 2 } }, betaInitializer: { className: 'RandomNormal', config: { seed: 3 } } });
    const fused = ln.apply(x) as tf.Tensor;
    const ops = unfused(() => ln.apply(x) as tf.Tensor);
    assertClose(fused.dataSync(), ops.dataSync(), 1e-5, `center ${center}, scale ${scale}`);
    tf.dispose([fused, ops]);
    ln.dispose();
  }
  // Another axis than the last: the tfjs ops (the kernel normalizes the last axis only).
  const ln = new LayerNormalization({ axis: 1 });
  const kernels = kernelsOf(() => (ln.apply(x) as tf.Tensor).dispose());
  assert.ok((kernels.get('Mean') ?? 0) > 0);
  x.dispose();
  ln.dispose();
});
