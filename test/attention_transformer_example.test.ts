// The Transformer encoder example: it runs, and its predictions and weight
// gradients are padding-invariant (pre or post, any extra length, any batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tf, getMask, padSequences } from '../src/index.js';
import { buildEncoder, main, DEFAULTS } from '../examples/transformer_encoder.js';
import { assertClose } from './attention_helpers.js';

test('examples/transformer_encoder.ts trains and reports padding-invariant logits', async () => {
  const lines: string[] = [];
  await main((s) => lines.push(s));
  assert.match(lines[0]!, /^trained 12 epochs: accuracy \d\.\d\d -> \d\.\d\d$/);
  assert.equal(lines[1], 'padded post to 10 vs pre to 30: max |difference| of the logits = < 1e-5');
  assert.match(lines[2]!, /^test labels: +\[0, 1, 0, 1, 0, 1, 0, 1\]$/);
});

test('the encoder\'s logits and weight gradients do not depend on padding', () => {
  const model = buildEncoder();
  const before = tf.memory().numTensors;
  const seqArb = fc.array(fc.integer({ min: 1, max: DEFAULTS.vocabSize - 1 }), { minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(fc.array(seqArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 6 }), fc.constantFrom('pre', 'post'), (seqs, extra, padding) => {
      tf.tidy(() => {
        const longest = Math.max(...seqs.map((q) => q.length));
        const tight = padSequences(seqs, { padding: 'post' });
        const loose = padSequences(seqs, { padding, maxlen: longest + extra });
        const w = tf.randomNormal([seqs.length, DEFAULTS.classes]);
        const run = (x: tf.Tensor) => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, w)) as tf.Scalar, model.trainableWeights.map((v) => v.variable));
          return { logits: model.apply(x) as tf.Tensor, value, grads: model.trainableWeights.map((v) => grads[v.variable.name]!) };
        };
        const a = run(tight);
        const b = run(loose);
        assert.equal(getMask(b.logits), null, 'the pooled logits carry no mask');
        assertClose(b.logits.dataSync() as Float32Array, a.logits.dataSync() as Float32Array, 1e-5, `logits (${padding}, +${extra})`);
        a.grads.forEach((g, i) => assertClose(b.grads[i]!.dataSync() as Float32Array, g.dataSync() as Float32Array, 1e-4, `gradient of ${model.trainableWeights[i]!.path}`));
        // Each row alone, unpadded, gives the batch's logits.
        seqs.forEach((q, i) => {
          const alone = model.apply(tf.tensor2d([q], [1, q.length], 'int32')) as tf.Tensor;
          assertClose(alone.dataSync() as Float32Array, tf.slice(a.logits, [i, 0], [1, DEFAULTS.classes]).dataSync() as Float32Array, 1e-5, `row ${i} alone`);
        });
      });
    }),
    { numRuns: 15 },
  );
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  model.dispose();
});
