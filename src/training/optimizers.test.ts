import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { Adam, AdamW, Optimizer, RMSprop, SGD } from './optimizers.js';
import { getOptimizer } from './optimizer_registry.js';

// ---- float64 reference of Keras's update rules ----------------------------
type Vec = number[];
interface RefState {
  w: Vec[];
  slots: Record<string, Vec[]>;
}
interface RefConfig {
  kind: 'sgd' | 'adam' | 'rmsprop';
  lr: (it: number) => number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
  rho?: number;
  centered?: boolean;
  weightDecay?: number;
  clipnorm?: number;
  clipvalue?: number;
  globalClipnorm?: number;
}

const norm = (g: Vec) => Math.sqrt(g.reduce((s, x) => s + x * x, 0));

function refStep(c: RefConfig, s: RefState, grads: Vec[], it: number): void {
  const lr = c.lr(it);
  const t = it + 1;
  let gs = grads.map((g) => g.slice());
  if (c.clipnorm) gs = gs.map((g) => g.map((x) => (x * c.clipnorm!) / Math.max(norm(g), c.clipnorm!)));
  else if (c.globalClipnorm) {
    const n = Math.sqrt(gs.reduce((acc, g) => acc + norm(g) ** 2, 0));
    const scale = c.globalClipnorm * Math.min(1 / n, 1 / c.globalClipnorm);
    gs = gs.map((g) => g.map((x) => x * scale));
  } else if (c.clipvalue) gs = gs.map((g) => g.map((x) => Math.min(c.clipvalue!, Math.max(-c.clipvalue!, x))));
  if (c.weightDecay) s.w = s.w.map((w) => w.map((x) => x - x * c.weightDecay! * lr));
  const slot = (name: string) => (s.slots[name] ??= s.w.map((w) => w.map(() => 0)));
  gs.forEach((g, i) => {
    const w = s.w[i]!;
    if (c.kind === 'sgd') {
      const mu = c.momentum ?? 0;
      if (!mu) g.forEach((x, j) => (w[j]! -= lr * x));
      else {
        const m = slot('momentum')[i]!;
        g.forEach((x, j) => {
          m[j] = mu * m[j]! - lr * x;
          w[j]! += c.nesterov ? mu * m[j]! - lr * x : m[j]!;
        });
      }
    } else if (c.kind === 'adam') {
      const [b1, b2, eps] = [c.beta1 ?? 0.9, c.beta2 ?? 0.999, c.epsilon ?? 1e-7];
      const m = slot('momentum')[i]!;
      const v = slot('velocity')[i]!;
      const vh = c.amsgrad ? slot('velocity_hat')[i]! : null;
      const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      g.forEach((x, j) => {
        m[j]! += (x - m[j]!) * (1 - b1);
        v[j]! += (x * x - v[j]!) * (1 - b2);
        let vv = v[j]!;
        if (vh) vv = vh[j] = Math.max(vh[j]!, v[j]!);
        w[j]! -= (m[j]! * alpha) / (Math.sqrt(vv) + eps);
      });
    } else {
      const [rho, eps, mu] = [c.rho ?? 0.9, c.epsilon ?? 1e-7, c.momentum ?? 0];
      const vel = slot('velocity')[i]!;
      const avg = c.centered ? slot('average_gradient')[i]! : null;
      const mom = mu > 0 ? slot('momentum')[i]! : null;
      g.forEach((x, j) => {
        vel[j] = rho * vel[j]! + (1 - rho) * x * x;
        let den = vel[j]! + eps;
        if (avg) {
          avg[j] = rho * avg[j]! + (1 - rho) * x;
          den = vel[j]! - avg[j]! ** 2 + eps;
        }
        const inc = (lr * x) / Math.sqrt(den);
        if (mom) {
          mom[j] = mu * mom[j]! + inc;
          w[j]! -= mom[j]!;
        } else w[j]! -= inc;
      });
    }
  });
}

const W0: Vec[] = [
  [0.5, -1.2, 2.0, 0.3],
  [1.5, -0.25, 0.75],
];
const SHAPES = [[2, 2], [3]];
const gradAt = (step: number): Vec[] => W0.map((w, i) => w.map((_, j) => Math.sin(step * 3.1 + i * 1.7 + j) * (1 + step)));

function runBoth(make: () => Optimizer, ref: RefConfig, steps = 3): void {
  const opt = make();
  const vars = W0.map((w, i) => tf.variable(tf.tensor(w, SHAPES[i]!), true, `opt_test_${i}_${Math.random()}`));
  const state: RefState = { w: W0.map((w) => w.slice()), slots: {} };
  for (let step = 0; step < steps; step++) {
    const grads = gradAt(step);
    const gt = grads.map((g, i) => tf.tensor(g, SHAPES[i]!));
    opt.applyGradients(vars.map((variable, i) => ({ variable, gradient: gt[i]!, path: `dense/w${i}` })));
    tf.dispose(gt);
    refStep(ref, state, grads, step);
  }
  assert.equal(opt.iterations, steps);
  vars.forEach((v, i) => {
    const got = Array.from(v.dataSync());
    got.forEach((x, j) => {
      const want = state.w[i]![j]!;
      assert.ok(Math.abs(x - want) <= 2e-6 * Math.max(1, Math.abs(want)), `${opt.className} w${i}[${j}]: ${x} vs ${want}`);
    });
  });
  // Slots match the reference too (looked up by path, whatever their order).
  const slotVars = opt.variables().filter((v) => !/\/(iteration|learning_rate)$/.test(v.path));
  const kinds = Object.keys(state.slots);
  assert.equal(slotVars.length, kinds.length * vars.length);
  for (const sv of slotVars) {
    const [, w, kind] = /dense_w(\d)_(.+)$/.exec(sv.path)!;
    const want = state.slots[kind!]![Number(w)]!;
    Array.from(sv.variable.dataSync()).forEach((x, j) => assert.ok(Math.abs(x - want[j]!) <= 2e-6 * Math.max(1, Math.abs(want[j]!)), `${sv.path}[${j}]`));
  }
  opt.dispose();
  tf.dispose(vars);
}

const constLr = (lr: number) => () => lr;

describe('optimizers: 3 steps against a float64 reference', () => {
  const cases: [string, () => Optimizer, RefConfig][] = [
    ['SGD', () => new SGD({ learningRate: 0.1 }), { kind: 'sgd', lr: constLr(0.1) }],
    ['SGD momentum', () => new SGD({ learningRate: 0.1, momentum: 0.9 }), { kind: 'sgd', lr: constLr(0.1), momentum: 0.9 }],
    ['SGD nesterov + clipvalue', () => new SGD({ learningRate: 0.05, momentum: 0.5, nesterov: true, clipvalue: 0.7 }), { kind: 'sgd', lr: constLr(0.05), momentum: 0.5, nesterov: true, clipvalue: 0.7 }],
    ['Adam', () => new Adam({ learningRate: 0.01 }), { kind: 'adam', lr: constLr(0.01) }],
    ['Adam amsgrad + clipnorm', () => new Adam({ learningRate: 0.02, amsgrad: true, clipnorm: 1 }), { kind: 'adam', lr: constLr(0.02), amsgrad: true, clipnorm: 1 }],
    ['Adam schedule + globalClipnorm', () => new Adam({ learningRate: (it) => 0.1 / (1 + it), globalClipnorm: 2, beta1: 0.8, epsilon: 1e-3 }), { kind: 'adam', lr: (it) => 0.1 / (1 + it), globalClipnorm: 2, beta1: 0.8, epsilon: 1e-3 }],
    ['AdamW', () => new AdamW({ learningRate: 0.01 }), { kind: 'adam', lr: constLr(0.01), weightDecay: 0.004 }],
    ['AdamW strong decay', () => new AdamW({ learningRate: 0.1, weightDecay: 0.5 }), { kind: 'adam', lr: constLr(0.1), weightDecay: 0.5 }],
    ['RMSprop', () => new RMSprop({ learningRate: 0.01 }), { kind: 'rmsprop', lr: constLr(0.01) }],
    ['RMSprop momentum centered', () => new RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true, rho: 0.8 }), { kind: 'rmsprop', lr: constLr(0.01), momentum: 0.5, centered: true, rho: 0.8 }],
    ['SGD with weightDecay', () => new SGD({ learningRate: 0.1, weightDecay: 0.1 }), { kind: 'sgd', lr: constLr(0.1), weightDecay: 0.1 }],
  ];
  for (const [name, make, ref] of cases) test(name, () => runBoth(make, ref));
});

describe('optimizers: state, config, memory', () => {
  test('variables() lists iteration, learning_rate, then slots in Keras 3.15.1 order (kinds of one add_optimizer_variables call interleaved per variable) with stable paths', () => {
    const opt = new Adam({ learningRate: 0.01 });
    const a = tf.variable(tf.zeros([2]));
    const b = tf.variable(tf.zeros([3]));
    const g = [tf.ones([2]), tf.ones([3])];
    opt.applyGradients([
      { variable: a, gradient: g[0]!, path: 'dense/kernel' },
      { variable: b, gradient: g[1]!, path: 'dense/bias' },
    ]);
    assert.deepEqual(
      opt.variables().map((v) => v.path),
      ['adam/iteration', 'adam/learning_rate', 'adam/dense_kernel_momentum', 'adam/dense_kernel_velocity', 'adam/dense_bias_momentum', 'adam/dense_bias_velocity'],
    );
    assert.equal(opt.variables()[0]!.variable.dataSync()[0], 1);
    // getWeights / setWeights round-trip into a fresh optimizer.
    const saved = opt.getWeights();
    const other = new Adam({ learningRate: 0.5 });
    other.build([a, b], ['dense/kernel', 'dense/bias']);
    other.setWeights(saved);
    assert.equal(other.iterations, 1);
    assert.ok(Math.abs(other.learningRate - 0.01) < 1e-9);
    assert.deepEqual(Array.from(other.variables()[2]!.variable.dataSync()), Array.from(opt.variables()[2]!.variable.dataSync()));
    assert.throws(() => other.setWeights(saved.slice(1)), { code: 'WEIGHT_COUNT_MISMATCH' });
    // A schedule has no learning_rate variable.
    const sched = new SGD({ learningRate: () => 0.1, momentum: 0.9 });
    sched.applyGradients([{ variable: a, gradient: g[0]!, path: 'dense/kernel' }]);
    assert.deepEqual(sched.variables().map((v) => v.path), ['SGD/iteration', 'SGD/dense_kernel_momentum']);
    tf.dispose([...saved, ...g, a, b]);
    [opt, other, sched].forEach((o) => o.dispose());
  });

  test('numTensors stays flat over 100 steps (every optimizer, after the first builds slots)', () => {
    for (const opt of [new SGD({ momentum: 0.9, nesterov: true }), new Adam({ amsgrad: true, clipnorm: 1 }), new AdamW({ globalClipnorm: 1 }), new RMSprop({ momentum: 0.9, centered: true, clipvalue: 1 })]) {
      const v = tf.variable(tf.ones([4, 3]));
      const g = tf.fill([4, 3], 0.5);
      opt.applyGradients([{ variable: v, gradient: g }]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 100; i++) opt.applyGradients([{ variable: v, gradient: g }]);
      assert.equal(tf.memory().numTensors, before, opt.className);
      assert.equal(opt.iterations, 101);
      const n = opt.variables().length;
      opt.dispose();
      assert.equal(tf.memory().numTensors, before - n, `${opt.className} dispose`);
      tf.dispose([v, g]);
    }
  });

  test('learningRate is settable; a schedule sees the iteration', () => {
    const opt = new SGD();
    assert.equal(opt.learningRate, 0.01);
    opt.learningRate = 0.5;
    assert.equal(opt.learningRate, 0.5);
    assert.equal(opt.getConfig().learningRate, 0.5);
    const v = tf.variable(tf.scalar(1));
    const g = tf.scalar(1);
    opt.applyGradients([{ variable: v, gradient: g }]);
    assert.ok(Math.abs(v.dataSync()[0]! - 0.5) < 1e-7);
    const seen: number[] = [];
    opt.learningRate = (it) => (seen.push(it), 0.1);
    opt.applyGradients([{ variable: v, gradient: g }]);
    opt.applyGradients([{ variable: v, gradient: g }]);
    assert.deepEqual(seen, [1, 2]);
    tf.dispose([v, g]);
    opt.dispose();
  });

  test('null gradients are skipped; all null raises; a wrong shape raises', () => {
    const opt = new SGD({ learningRate: 1 });
    const a = tf.variable(tf.scalar(1));
    const b = tf.variable(tf.scalar(1));
    const g = tf.scalar(1);
    opt.applyGradients([{ variable: a, gradient: g }, { variable: b, gradient: null }]);
    assert.deepEqual([a.dataSync()[0], b.dataSync()[0]], [0, 1]);
    assert.throws(() => opt.applyGradients([{ variable: b, gradient: null }]), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => opt.applyGradients([{ variable: a, gradient: tf.ones([2]) }]), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /shape/.test(e.message));
    opt.applyGradients([]);
    assert.equal(opt.iterations, 1);
    tf.dispose([a, b, g]);
    opt.dispose();
  });

  test('getOptimizer and getConfig; invalid arguments raise', () => {
    assert.ok(getOptimizer('adam') instanceof Adam);
    assert.equal(getOptimizer('Adam').className, 'Adam');
    assert.equal(getOptimizer('adamw').className, 'AdamW');
    assert.equal(getOptimizer('RMSprop').className, 'RMSprop');
    const sgd = getOptimizer({ className: 'SGD', config: { learningRate: 0.3, momentum: 0.5 } });
    assert.deepEqual(sgd.getConfig(), { learningRate: 0.3, momentum: 0.5, nesterov: false, name: 'SGD' });
    const adam = new Adam();
    assert.equal(getOptimizer(adam), adam);
    assert.deepEqual(new AdamW().getConfig(), { learningRate: 0.001, weightDecay: 0.004, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false, name: 'adamw' });
    assert.equal(getOptimizer('adagrad').className, 'Adagrad');
    assert.equal((getOptimizer({ className: 'Nadam', config: { beta1: 0.8 } }).getConfig() as { beta1?: number }).beta1, 0.8);
    assert.throws(() => getOptimizer('adadelta'), { code: 'UNKNOWN_NAME' });
    // Option names are checked: snake_case Keras names and typos raise with the camelCase name.
    assert.throws(() => new Adam({ learning_rate: 0.1 } as never), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /unknown option 'learning_rate'\. Did you mean 'learningRate'\?/.test(e.message));
    assert.throws(() => new SGD({ nesterof: true } as never), (e: Error) => /Did you mean 'nesterov'\?/.test(e.message));
    assert.throws(() => getOptimizer({ className: 'rmsprop', config: { centred: true } }), (e: Error) => /Did you mean 'centered'\?/.test(e.message));
    assert.throws(() => new Adam({ clipnorm: 1, clipvalue: 1 }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /clipnorm/.test(e.message));
    assert.throws(() => new SGD({ momentum: 2 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new SGD({ learningRate: -1 }), { code: 'INVALID_ARGUMENT' });
  });
});
