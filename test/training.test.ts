import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tf, Sequential, Embedding, LSTM, Dense, GlobalAveragePooling1D, Masking, Input, Model, padSequences, getMask,
  EarlyStopping, Callback, SGD, Adam, MasqueError, computeLoss, type Logs,
} from '../src/index.js';

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Random token sequences with lengths in [minLen, maxLen]. */
function sequences(n: number, minLen: number, maxLen: number, vocab: number, seed: number): number[][] {
  const r = rand(seed);
  return Array.from({ length: n }, () => Array.from({ length: minLen + Math.floor(r() * (maxLen - minLen + 1)) }, () => 1 + Math.floor(r() * (vocab - 1))));
}

function classifier(seed: number): Sequential {
  const m = new Sequential({
    layers: [
      new Embedding({ inputDim: 20, outputDim: 4, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.5, maxval: 0.5, seed } } }),
      new LSTM({ units: 5 }),
      new Dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
  m.build([null, 3]);
  return m;
}

function maxAbsDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let d = 0;
  a.forEach((t, i) => {
    const x = t.dataSync(), y = b[i]!.dataSync();
    for (let k = 0; k < x.length; k++) d = Math.max(d, Math.abs(x[k]! - y[k]!));
  });
  return d;
}

test('one training step gives the same loss and weights whether the batch is padded to T or 3T (pre and post)', () => {
  const seqs = sequences(6, 1, 7, 20, 3);
  const labels = [0, 1, 1, 0, 1, 0];
  const longest = Math.max(...seqs.map((s) => s.length));
  const initModel = classifier(7);
  const init = initModel.getWeights();
  initModel.dispose();
  for (const padding of ['post', 'pre'] as const) {
    for (const opt of [() => new SGD({ learningRate: 0.5, momentum: 0.9 }), () => new Adam({ learningRate: 0.05 })]) {
      const results = [1, 3].map((factor) => {
        const model = classifier(7);
        model.setWeights(init);
        model.compile({ optimizer: opt(), loss: 'binary_crossentropy' });
        const x = padSequences(seqs, { maxlen: longest * factor, padding }) as tf.Tensor;
        const y = tf.tensor1d(labels);
        const loss = model.trainOnBatch(x, y) as number;
        const weights = model.getWeights();
        x.dispose();
        y.dispose();
        model.dispose();
        return { loss, weights };
      });
      assert.ok(Math.abs(results[0]!.loss - results[1]!.loss) < 1e-5, `${padding}: loss ${results[0]!.loss} vs ${results[1]!.loss}`);
      const d = maxAbsDiff(results[0]!.weights, results[1]!.weights);
      assert.ok(d < 1e-5, `${padding}: updated weights differ by ${d}`);
      // The step really changed the weights (the comparison is not vacuous).
      assert.ok(maxAbsDiff(init, results[0]!.weights) > 1e-4);
      results.forEach((r) => r.weights.forEach((w) => w.dispose()));
    }
  }
  init.forEach((w) => w.dispose());
});

test('per-step losses average over valid steps only; a [B] sample weight combines with the [B, T] mask', () => {
  const inp = Input({ shape: [4, 2] });
  const h = new Masking({ maskValue: 0 }).apply(inp) as never;
  const out = new Dense({ units: 1, kernelInitializer: 'ones' }).apply(h);
  const model = new Model({ inputs: inp, outputs: out as never });
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.tensor3d([[[1, 1], [2, 0], [0, 0], [0, 0]], [[1, 0], [1, 1], [3, 0], [0, 0]]]);
  const y = tf.zeros([2, 4, 1]);
  const w = tf.tensor1d([1, 3]);
  // Dense(ones, bias 0) predicts x0 + x1: row 0 valid steps 2, 2; row 1 valid steps 1, 2, 3.
  const l = [[4, 4], [1, 4, 9]];
  const plain = (l[0]!.reduce((a, b) => a + b) + l[1]!.reduce((a, b) => a + b)) / 5;
  const weighted = (l[0]!.reduce((a, b) => a + b) * 1 + l[1]!.reduce((a, b) => a + b) * 3) / 5;
  return (async () => {
    const got = (await model.evaluate(x, y, { batchSize: 2, verbose: 0 })) as number;
    assert.ok(Math.abs(got - plain) < 1e-5, `masked mean ${got}, expected ${plain}`);
    const gotW = (await model.evaluate(x, y, { batchSize: 2, verbose: 0, sampleWeight: w })) as number;
    assert.ok(Math.abs(gotW - weighted) < 1e-5, `weighted masked mean ${gotW}, expected ${weighted}`);
    // All steps masked: the loss is 0, not NaN.
    const z = tf.zeros([2, 4, 2]);
    assert.equal(await model.evaluate(z, y, { verbose: 0 }), 0);
    // computeLoss with an explicit mask gives the same number.
    const pred = model.predict(x) as tf.Tensor;
    const direct = computeLoss('mse', y, pred, { mask: getMask(pred) });
    assert.ok(Math.abs(direct.dataSync()[0]! - plain) < 1e-5);
    tf.dispose([x, y, w, z, pred, direct]);
    model.dispose();
  })();
});

test('fit on a variable-length dataset learns, pads per batch, validates, and leaks no tensors across epochs', async () => {
  // Label: does the sequence contain token 3?
  const seqs = sequences(160, 2, 12, 8, 11);
  const labels = seqs.map((s) => (s.includes(3) ? 1 : 0));
  const model = new Sequential({
    layers: [new Embedding({ inputDim: 8, outputDim: 6, maskZero: true }), new LSTM({ units: 8 }), new Dense({ units: 1, activation: 'sigmoid' })],
  });
  model.compile({ optimizer: new Adam({ learningRate: 0.03 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const counts: number[] = [];
  const widths = new Set<number>();
  class Probe extends Callback {
    override onEpochEnd(): void {
      counts.push(tf.memory().numTensors);
    }
  }
  const origApply = model.apply.bind(model);
  model.apply = ((x: tf.Tensor | tf.Tensor[], a?: never) => {
    if (x instanceof tf.Tensor) widths.add(x.shape[1]!);
    return origApply(x, a);
  }) as typeof model.apply;
  const history = await model.fit({ sequences: seqs, labels }, { epochs: 12, batchSize: 16, validationSplit: 0.25, verbose: 0, seed: 5, callbacks: [new Probe()] });
  assert.equal(history.epoch.length, 12);
  for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) assert.equal(history.history[k]!.length, 12, k);
  const loss = history.history['loss']!;
  assert.ok(loss[11]! < loss[0]! * 0.7, `loss should fall: ${loss[0]} -> ${loss[11]}`);
  assert.ok(history.history['val_accuracy']![11]! >= 0.8, `val accuracy ${history.history['val_accuracy']![11]}`);
  // Dynamic padding: batches are padded to their own longest sequence, not always to 12.
  assert.ok([...widths].some((w) => w < 12), `batch widths ${[...widths]}`);
  // Flat tensor count from the second epoch on (the first creates optimizer slots).
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts per epoch: ${counts}`);
  model.dispose();
});

test('EarlyStopping stops fit and custom callbacks see the logs', async () => {
  const x = tf.randomNormal([32, 3], 0, 1, 'float32', 1);
  const y = tf.zeros([32, 1]);
  const model = new Sequential({ layers: [new Dense({ units: 1, inputShape: [3] })] });
  model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse' });
  const seen: Logs[] = [];
  class Spy extends Callback {
    override onEpochEnd(_e: number, logs: Logs = {}): void {
      seen.push({ ...logs });
    }
  }
  const h = await model.fit(x, y, { epochs: 20, batchSize: 8, verbose: 0, shuffle: false, callbacks: [new EarlyStopping({ monitor: 'loss', patience: 2 }), new Spy()] });
  // With learning rate 0 the loss never improves: stops after 1 + patience epochs.
  assert.equal(h.epoch.length, 3);
  assert.equal(seen.length, 3);
  assert.ok(typeof seen[0]!['loss'] === 'number');
  tf.dispose([x, y]);
  model.dispose();
});

test('training errors name what was wrong', async () => {
  const model = new Sequential({ layers: [new Dense({ units: 1, inputShape: [2] })] });
  const x = tf.zeros([4, 2]);
  await assert.rejects(() => model.fit(x, tf.zeros([4, 1])), (e: unknown) => e instanceof MasqueError && e.code === 'NOT_COMPILED');
  assert.throws(() => model.compile({ optimizer: 'adam', loss: 'no_such_loss' }), (e: unknown) => e instanceof MasqueError && e.code === 'UNKNOWN_NAME' && /no_such_loss/.test(e.message));
  assert.throws(() => model.compile({ optimizer: 'nadamx', loss: 'mse' }), (e: unknown) => e instanceof MasqueError && e.code === 'UNKNOWN_NAME');
  assert.throws(() => model.compile({ optimizer: 'adam', loss: ['mse', 'mse'] }), /1 outputs.*list of 2/);
  model.compile({ optimizer: 'adam', loss: 'mse' });
  const y3 = tf.zeros([3, 1]);
  const before = tf.memory().numTensors;
  await assert.rejects(() => model.fit(x, y3, { verbose: 0 }), (e: unknown) => e instanceof MasqueError && /same number of samples/.test(e.message) && /\[4,2\]/.test(e.message.replace(/ /g, '')));
  await assert.rejects(() => model.fit(x, [[0], [0], [0], [0]], { epochs: 0 }), /epochs must be a positive integer/);
  await assert.rejects(() => model.fit(x, [[0], [0], [0], [0]], { validationSplit: 1.5 }), /validationSplit/);
  await assert.rejects(() => model.fit(x, [[NaN], [0], [0], [0]], { verbose: 0 }), /loss became NaN/);
  assert.equal(tf.memory().numTensors, before, 'failed fits leak nothing');
  tf.dispose([x, y3]);
  model.dispose();
});

test('Embedding trains on the wasm backend (no UnsortedSegmentSum fallback) and predictOnBatch matches predict', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const model = new Sequential({ layers: [new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }), new GlobalAveragePooling1D(), new Dense({ units: 1 })] });
  model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'mse' });
  const x = tf.tensor2d([[1, 2, 0], [3, 3, 3]], undefined, 'int32');
  const y = tf.tensor2d([[1], [-1]]);
  model.build([null, 3]);
  const e0 = model.getWeights()[0]!;
  model.trainOnBatch(x, y);
  const e1 = model.getWeights()[0]!;
  const d0 = tf.sum(tf.abs(tf.sub(e0, e1)), 1).dataSync();
  // Rows 1, 2, 3 were used and moved; rows 0 (padding) and 4..9 were not.
  assert.deepEqual(Array.from(d0 as Float32Array).map((v) => v > 0), [false, true, true, true, false, false, false, false, false, false]);
  const p1 = model.predict(x) as tf.Tensor;
  const p2 = model.predictOnBatch(x) as tf.Tensor;
  assert.ok(maxAbsDiff([p1], [p2]) === 0);
  tf.dispose([x, y, e0, e1, p1, p2]);
  model.dispose();
});

test('ModelCheckpoint writes .keras files that load back, and LearningRateScheduler drives the optimizer', async () => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { ModelCheckpoint, LearningRateScheduler, loadModel } = await import('../src/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'masque-ckpt-'));
  try {
    const seqs = sequences(24, 1, 6, 8, 2);
    const model = new Sequential({ layers: [new Embedding({ inputDim: 8, outputDim: 3, maskZero: true }), new LSTM({ units: 3 }), new Dense({ units: 1, activation: 'sigmoid' })] });
    const opt = new Adam({ learningRate: 0.01 });
    model.compile({ optimizer: opt, loss: 'binary_crossentropy' });
    const rates: number[] = [];
    class LrSpy extends Callback {
      override onEpochEnd(_e: number, logs: Logs = {}): void {
        rates.push(logs['learning_rate']!);
      }
    }
    const h = await model.fit({ sequences: seqs, labels: seqs.map((s) => s.length % 2) }, {
      epochs: 3, batchSize: 8, verbose: 0, seed: 1,
      callbacks: [new ModelCheckpoint({ filepath: join(dir, 'm-{epoch:02d}.keras'), monitor: 'loss' }), new LearningRateScheduler((epoch) => 0.01 / (epoch + 1)), new LrSpy()],
    });
    assert.deepEqual(readdirSync(dir).sort(), ['m-01.keras', 'm-02.keras', 'm-03.keras']);
    assert.deepEqual(rates.map((r) => +r.toFixed(6)), [0.01, 0.005, 0.003333]);
    assert.equal(opt.learningRate.toFixed(6), '0.003333');
    const back = await loadModel(join(dir, 'm-03.keras'));
    const x = padSequences(seqs, { maxlen: 6 });
    const a = model.predict(x) as tf.Tensor;
    const b = back.predict(x) as tf.Tensor;
    assert.ok(maxAbsDiff([a], [b]) < 1e-6);
    assert.equal(h.epoch.length, 3);
    tf.dispose([x, a, b]);
    back.dispose();
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fit and trainOnBatch reuse the Embedding gradient's buffer between steps: the same weights, bit for bit, as fresh buffers on the same batches; fit keeps nothing after it, trainOnBatch keeps one buffer until dispose", async () => {
  const { setEmbeddingGradientReuse } = await import('../src/ops/embedding_lookup.js');
  const seqs = sequences(12, 1, 6, 30, 21);
  const labels = seqs.map((s) => (s.includes(3) ? 1 : 0));
  const x = padSequences(seqs, { padding: 'post' }) as tf.Tensor;
  const y = tf.tensor1d(labels);
  const make = (opt: () => SGD | Adam) => {
    const m = new Sequential({
      layers: [
        new Embedding({ inputDim: 30, outputDim: 4, maskZero: true, embeddingsInitializer: { className: 'RandomUniform', config: { minval: -0.5, maxval: 0.5, seed: 3 } } }),
        new GlobalAveragePooling1D(),
        new Dense({ units: 1, activation: 'sigmoid', kernelInitializer: { className: 'GlorotUniform', config: { seed: 4 } } }),
      ],
    });
    m.compile({ optimizer: opt(), loss: 'binary_crossentropy' });
    return m;
  };
  const bits = (ts: tf.Tensor[]) => ts.map((t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer)));
  const batchByBatch = (m: Sequential) => {
    for (let e = 0; e < 2; e++) {
      for (let s = 0; s < 12; s += 4) {
        const [xb, yb] = [tf.slice(x, [s, 0], [4, -1]), tf.slice(y, [s], [4])];
        m.trainOnBatch(xb, yb);
        tf.dispose([xb, yb]);
      }
    }
  };
  for (const opt of [() => new Adam({ learningRate: 0.05 }), () => new Adam({ learningRate: 0.05, clipnorm: 0.01 }), () => new SGD({ learningRate: 0.5, momentum: 0.9 })]) {
    const a = make(opt);
    const beforeFit = tf.memory().numTensors;
    await a.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    const afterOne = tf.memory().numTensors;
    await a.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    assert.equal(tf.memory().numTensors, afterOne, 'flat over fits: fit keeps no buffer after it');
    // The reference: fresh buffers at every step.
    const before = setEmbeddingGradientReuse(false);
    const b = make(opt);
    try {
      batchByBatch(b);
    } finally {
      setEmbeddingGradientReuse(before);
    }
    const c = make(opt);
    const beforeBatches = tf.memory().numTensors;
    batchByBatch(c);
    // Keeps one [30, 4] buffer between calls (the optimizer's slots are made at the first step, as in fit).
    const kept = tf.memory().numTensors - beforeBatches - (afterOne - beforeFit);
    if (tf.getBackend() === 'wasm') assert.equal(kept, 1, 'trainOnBatch keeps the one Embedding gradient buffer');
    const [wa, wb, wc] = [a.getWeights(), b.getWeights(), c.getWeights()];
    assert.deepEqual(bits(wa), bits(wb), `fit: ${a.optimizer!.getConfig().name}`);
    assert.deepEqual(bits(wc), bits(wb), `trainOnBatch: ${a.optimizer!.getConfig().name}`);
    tf.dispose([...wa, ...wb, ...wc]);
    a.dispose();
    // b and c hold the same weights and optimizer state; c also the kept buffer, which its dispose frees.
    const freed = (m: Sequential) => {
      const n = tf.memory().numTensors;
      m.dispose();
      return n - tf.memory().numTensors;
    };
    assert.equal(freed(c) - freed(b), tf.getBackend() === 'wasm' ? 1 : 0, 'dispose frees the kept buffer');
  }
  tf.dispose([x, y]);
});

test('a model whose mask is computed from trained values trains: Masking(maskValue 0.5) after a Dense, and Masking on the inputs with an input gradient', async () => {
  // The mask's comparison and any() lie on the path from the Dense's weights
  // to the loss; their gradient is zero (as in TensorFlow). tfjs alone threw
  // "gradient function not found for Any".
  const m = new Sequential({ layers: [Input({ shape: [5, 3] }), new Dense({ units: 3, activation: 'relu' }), new Masking({ maskValue: 0.5 }), new LSTM({ units: 2 })] });
  m.compile({ loss: 'mse', optimizer: 'adam' });
  const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 3);
  const y = tf.randomNormal([4, 2], 0, 1, 'float32', 4);
  const before = m.getWeights().map((w) => w.dataSync().slice());
  const h = await m.fit(x, y, { epochs: 1, verbose: 0 });
  assert.ok(Number.isFinite(h.history['loss']![0]));
  assert.ok(m.getWeights().some((w, i) => w.dataSync().some((v, k) => v !== before[i]![k])), 'fit changed no weight');
  // Masking(-1) on the inputs: the input gradient is dy at valid steps and 0 at masked ones.
  const masking = new Masking({ maskValue: -1 });
  const xs = tf.tensor3d([[[1, 2], [-1, -1], [3, -1]]]);
  const r = tf.tensor3d([[[5, 6], [7, 8], [9, 10]]]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(masking.apply(a) as tf.Tensor, r)))(xs);
  assert.deepEqual(g.arraySync(), [[[5, 6], [0, 0], [9, 10]]]);
  tf.dispose([x, y, xs, r, g]);
});
