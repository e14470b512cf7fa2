// MultiHeadAttention fed an Embedding's output directly reads that output's
// padded rows from the Embedding's table (the fallback's mean over all steps,
// the check for NaN or Inf at masked positions): the same bits as reading the
// output itself, which a clone of it (another tensor, no lookup source) makes
// the layer do; and NaN or Inf in the table rows of masked ids never reaches
// a valid output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, Embedding, MultiHeadAttention, GlobalAveragePooling1D, getMask } from '../src/index.js';

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/** Ids [B, T] of rows of the given lengths, padded with 0 to t (pre or post); real ids in [1, vocab). */
function paddedIds(lengths: number[], t: number, pre: boolean, vocab: number, pad = 0): tf.Tensor {
  let seed = 5;
  const next = () => (seed = (seed * 69069 + 1) % 4294967296) / 4294967296;
  const real = lengths.map((l) => Array.from({ length: l }, () => 1 + Math.floor(next() * (vocab - 1))));
  const rows = real.map((r) => (pre ? [...Array(t - r.length).fill(pad), ...r] : [...r, ...Array(t - r.length).fill(pad)]));
  return tf.tensor2d(rows, [lengths.length, t], 'int32');
}

const lengths = [5, 1, 9, 3, 9];

test('MultiHeadAttention on an Embedding output: the same bits as on a copy of it, at every position, padded 1x and 4x, pre and post; valid outputs padding-invariant', () => {
  const emb = new Embedding({ inputDim: 17, outputDim: 24, maskZero: true });
  const mha = new MultiHeadAttention({ numHeads: 3, keyDim: 5 });
  let reference: number[][] | null = null;
  for (const pre of [false, true]) {
    for (const t of [9, 36]) {
      tf.tidy(() => {
        const x = emb.apply(paddedIds(lengths, t, pre, 16)) as tf.Tensor;
        const m = getMask(x)!;
        const y = mha.apply([x, x]) as tf.Tensor;
        const copy = tf.clone(x);
        assert.deepEqual(bits(y), bits(mha.apply([copy, copy], { queryMask: m, valueMask: m }) as tf.Tensor), `pre ${pre}, T ${t}`);
        // Each row's valid outputs, whatever the padding.
        const rows = (y.arraySync() as number[][][]).map((r, i) => (pre ? r.slice(t - lengths[i]!) : r.slice(0, lengths[i]!)).flat());
        if (reference === null) reference = rows;
        else rows.forEach((r, i) => r.forEach((v, k) => assert.ok(Math.abs(v - reference![i]![k]!) <= 1e-6, `row ${i}`)));
      });
    }
  }
  mha.dispose();
  emb.dispose();
});

test('and in training: the loss and the attention weight gradients have the same bits as through a copy, the table gradient the same to float32 rounding', () => {
  const emb = new Embedding({ inputDim: 17, outputDim: 24, maskZero: true });
  const mha = new MultiHeadAttention({ numHeads: 3, keyDim: 5 });
  const pool = new GlobalAveragePooling1D();
  const ids = paddedIds(lengths, 36, false, 16);
  tf.tidy(() => void mha.apply([emb.apply(ids) as tf.Tensor, emb.apply(ids) as tf.Tensor]));
  const vars = [...emb.weights, ...mha.weights].map((w) => w.variable);
  const grads = (copy: boolean) => {
    const { value, grads: g } = tf.variableGrads(() => tf.tidy(() => {
      const e = emb.apply(ids) as tf.Tensor;
      const m = getMask(e)!;
      const x = copy ? tf.clone(e) : e;
      return tf.sum(tf.square(pool.apply(mha.apply([x, x], { queryMask: m, valueMask: m }) as tf.Tensor, { mask: m }) as tf.Tensor)) as tf.Scalar;
    }), vars);
    const out = { loss: bits(value), table: Array.from(g[vars[0]!.name]!.dataSync()), attention: vars.slice(1).map((v) => bits(g[v.name]!)) };
    tf.dispose([value, ...Object.values(g)]);
    return out;
  };
  const before = tf.memory().numTensors;
  const [direct, copied] = [grads(false), grads(true)];
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(direct.loss, copied.loss);
  assert.deepEqual(direct.attention, copied.attention);
  // (The table's gradient sums the query's and the value's parts in another order through a copy.)
  direct.table.forEach((v, i) => assert.ok(Math.abs(v - copied.table[i]!) <= 1e-6 * Math.max(1, Math.abs(v)), `table gradient ${i}`));
  assert.ok(direct.table.some((v) => v !== 0));
  ids.dispose();
  mha.dispose();
  emb.dispose();
});

test('NaN or Inf in the table rows of masked ids never reaches a valid output (the padding id, or any id an explicit mask hides)', () => {
  const emb = new Embedding({ inputDim: 17, outputDim: 24, maskZero: true });
  const mha = new MultiHeadAttention({ numHeads: 3, keyDim: 5 });
  for (const t of [9, 36]) {
    tf.tidy(() => {
      const ids = paddedIds(lengths, t, false, 16);
      const clean = mha.apply([emb.apply(ids) as tf.Tensor, emb.apply(ids) as tf.Tensor]) as tf.Tensor;
      const table = emb.weights[0]!.variable;
      const saved = tf.clone(table);
      const valid = (y: tf.Tensor) => (y.arraySync() as number[][][]).map((r, i) => r.slice(0, lengths[i]!));
      for (const bad of [NaN, Infinity]) {
        // Row 0 (the padding id) poisoned: the valid outputs keep their bits, the padded ones are those of the copy path.
        table.assign(tf.concat([tf.fill([1, 24], bad), tf.slice(saved, [1, 0], [16, 24])], 0));
        const x = emb.apply(ids) as tf.Tensor;
        const y = mha.apply([x, x]) as tf.Tensor;
        assert.deepEqual(valid(y), valid(clean), `${bad} in row 0, T ${t}`);
        assert.ok(valid(y).flat(2).every(Number.isFinite));
        const copy = tf.clone(x);
        assert.deepEqual(bits(y), bits(mha.apply([copy, copy], { queryMask: getMask(x)!, valueMask: getMask(x)! }) as tf.Tensor));
        // Id 16 poisoned, used only where an explicit mask hides it (padding written as 16, not 0).
        table.assign(tf.concat([tf.slice(saved, [0, 0], [16, 24]), tf.fill([1, 24], bad)], 0));
        const ids16 = paddedIds(lengths, t, false, 16, 16);
        const m = tf.notEqual(ids16, tf.scalar(16, 'int32'));
        const x16 = emb.apply(ids16) as tf.Tensor;
        const y16 = mha.apply([x16, x16], { queryMask: m, valueMask: m }) as tf.Tensor;
        assert.deepEqual(valid(y16), valid(clean), `${bad} in row 16, T ${t}`);
      }
      table.assign(saved);
    });
  }
  mha.dispose();
  emb.dispose();
});
