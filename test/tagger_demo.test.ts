// The Brown tagger demo (demo/tagger/tagger.ts) end to end on a small slice
// of the corpus, and the padding invariance of its per-step outputs and
// masked loss. (`npm run demo:tagger` is the full-size run.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, padSequences } from '../src/index.js';
import { loadTagger } from '../demo/tagger/brown.js';
import { buildTaggerModel, runTaggerDemo, tagSentences } from '../demo/tagger/tagger.js';

test('the tagger demo trains on a slice of the Brown corpus end to end and tags held-out sentences', async () => {
  const lines: string[] = [];
  const before = tf.memory().numTensors;
  // 19 steps: the default schedule (a half cosine over the whole run) decays too soon to learn on so few; a constant 0.01 does.
  const r = await runTaggerDemo({ trainLimit: 600, testLimit: 150, epochs: 1, examples: 2, learningRate: 0.01, log: (l) => lines.push(l) });
  assert.equal(r.trainSentences, 600);
  assert.ok(r.accuracy > 0.3 && r.accuracy <= 1, `held-out accuracy ${r.accuracy}`);
  assert.ok(r.losses.length === 1 && Number.isFinite(r.losses[0]!));
  assert.ok(r.trainTokensPerSec > 0 && r.inferTokensPerSec > 0);
  assert.equal(r.examples.length, 2);
  for (const ex of r.examples) assert.match(ex, /^(\S+\/[A-Z0-9$*'.,:()`-]+(\|[A-Z0-9$*'.,:()`-]+)? ?)+$/);
  assert.match(lines.join('\n'), /Held-out token accuracy: 0\.\d{4}/);
  assert.equal(tf.memory().numTensors, before, 'the demo leaves no tensors behind');
});

test('tagger: per-step outputs and the masked loss do not depend on the padding; prediction gives one tag per real token', async () => {
  const data = loadTagger({ trainLimit: 64 });
  const model = buildTaggerModel(data.words.length, data.tags.length, 7);
  const ids = data.train.ids.slice(0, 24);
  const labels = data.train.labels.slice(0, 24);
  const longest = Math.max(...ids.map((s) => s.length));
  // A few steps of training first, so the weights are not the initial ones.
  for (let k = 0; k < 3; k++) {
    const x = padSequences(ids, { maxlen: longest, padding: 'post' });
    const y = padSequences(labels, { maxlen: longest, padding: 'post', dtype: 'float32' });
    model.trainOnBatch(x, y);
    tf.dispose([x, y]);
  }
  const before = tf.memory().numTensors;
  const run = async (maxlen: number, padding: 'pre' | 'post') => {
    const x = padSequences(ids, { maxlen, padding });
    const y = padSequences(labels, { maxlen, padding, dtype: 'float32' });
    const out = model.predict(x) as tf.Tensor;
    const probs = out.arraySync() as number[][][];
    // The loss: sparse crossentropy over the valid steps only (the Embedding's mask).
    const loss = (await model.evaluate(x, y, { batchSize: 64, verbose: 0 })) as number;
    tf.dispose([x, y, out]);
    // Each sentence's real steps, in order.
    const real = probs.map((row, i) => (padding === 'post' ? row.slice(0, ids[i]!.length) : row.slice(maxlen - ids[i]!.length)));
    return { real, loss };
  };
  const base = await run(longest, 'post');
  for (const [maxlen, padding] of [[longest + 9, 'post'], [2 * longest, 'pre'], [longest, 'pre']] as const) {
    const other = await run(maxlen, padding);
    let worst = 0;
    base.real.forEach((row, i) => row.forEach((p, t) => p.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - other.real[i]![t]![c]!))))));
    assert.ok(worst <= 1e-5, `padded to ${maxlen} (${padding}): per-step outputs differ by ${worst}`);
    assert.ok(Math.abs(base.loss - other.loss) <= 1e-5 * (1 + base.loss), `padded to ${maxlen} (${padding}): loss ${other.loss} vs ${base.loss}`);
  }
  const tags = tagSentences(model, ids, 10);
  assert.deepEqual(tags.map((t) => t.length), ids.map((s) => s.length));
  assert.ok(tags.flat().every((t) => Number.isInteger(t) && t >= 0 && t < data.tags.length));
  assert.equal(tf.memory().numTensors, before);
  model.optimizer?.dispose();
  model.dispose();
});
