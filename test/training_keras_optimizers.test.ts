// Adagrad and Nadam against Keras 3.15.1: a few steps of given gradients on
// two variables, and the optimizer's state variables (paths, order, values).
// Numbers: test/fixtures/keras-3.15.1-trainapi/optimizers.json (generate.py there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf, Adagrad, Nadam, getOptimizer, type Optimizer } from '../src/index.js';

interface Case {
  name: string;
  class: 'Adagrad' | 'Nadam';
  config: Record<string, number>;
  initial: [number[][], number[]];
  gradients: [number[][], number[]][];
  after_each_step: [number[][], number[]][];
  optimizer_variables: { path: string; value: number | number[] | number[][] }[];
}

const golden = JSON.parse(readFileSync(new URL('fixtures/keras-3.15.1-trainapi/optimizers.json', import.meta.url), 'utf8')) as { cases: Case[] };

function close(got: ArrayLike<number>, want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= 2e-6 * Math.max(1, Math.abs(want[i]!)), `${what}[${i}]: ${got[i]} vs Keras ${want[i]}`);
  }
}

for (const c of golden.cases) {
  test(`${c.class} (${c.name}) matches Keras 3.15.1 step by step`, () => {
    const before = tf.memory().numTensors;
    const opt: Optimizer = c.class === 'Adagrad' ? new Adagrad(c.config) : new Nadam(c.config);
    const [kernel, bias] = tf.tidy(() => [tf.variable(tf.tensor2d(c.initial[0])), tf.variable(tf.tensor1d(c.initial[1]))]);
    c.gradients.forEach(([gk, gb], step) => {
      const g = [tf.tensor2d(gk), tf.tensor1d(gb)];
      opt.applyGradients([
        { variable: kernel, gradient: g[0]!, path: 'kernel' },
        { variable: bias, gradient: g[1]!, path: 'bias' },
      ]);
      tf.dispose(g);
      close(kernel.dataSync(), c.after_each_step[step]![0].flat(), `${c.name} kernel after step ${step + 1}`);
      close(bias.dataSync(), c.after_each_step[step]![1], `${c.name} bias after step ${step + 1}`);
    });
    // The state: same order and values as Keras; paths as Keras's without its uniquifying suffixes (adagrad_1, variable_2).
    const keras = c.optimizer_variables.map((v) => ({ ...v, path: v.path.replace(/_\d+\//, '/').replace(/variable_\d+$/, 'variable') }));
    assert.deepEqual(opt.variables().map((v) => v.path), keras.map((v) => v.path));
    opt.variables().forEach((v, i) => close(v.variable.dataSync(), [keras[i]!.value].flat(2) as number[], `${c.name} ${v.path}`));
    opt.dispose();
    tf.dispose([kernel, bias]);
    assert.equal(tf.memory().numTensors, before, 'no leak');
  });
}

test('Nadam: getWeights/setWeights restore the state (u_product included), so a restored optimizer takes the same next step', () => {
  const make = () => [tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 0.5])))];
  const grads = [[0.3, -0.1, 0.8], [0.2, 0.4, -0.5], [-0.6, 0.1, 0.2]].map((g) => tf.tensor1d(g));
  const a = new Nadam({ learningRate: 0.05 });
  const [va] = make();
  a.applyGradients([{ variable: va!, gradient: grads[0]!, path: 'w' }]);
  a.applyGradients([{ variable: va!, gradient: grads[1]!, path: 'w' }]);
  const b = new Nadam({ learningRate: 0.05 });
  const [vb] = make();
  vb!.assign(va!);
  b.build([vb!], ['w']);
  const saved = a.getWeights();
  b.setWeights(saved);
  tf.dispose(saved);
  a.applyGradients([{ variable: va!, gradient: grads[2]!, path: 'w' }]);
  b.applyGradients([{ variable: vb!, gradient: grads[2]!, path: 'w' }]);
  close(vb!.dataSync(), Array.from(va!.dataSync()), 'restored Nadam');
  assert.equal(b.iterations, 3);
  a.dispose();
  b.dispose();
  tf.dispose([va!, vb!, ...grads]);
});

test('Adagrad and Nadam resolve by name in compile style, with Keras defaults', () => {
  const a = getOptimizer('Adagrad');
  assert.deepEqual(a.getConfig(), { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7, name: 'adagrad' });
  const n = getOptimizer('nadam');
  assert.deepEqual(n.getConfig(), { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, name: 'nadam' });
  assert.throws(() => new Adagrad({ initial_accumulator_value: 0.2 } as never), (e: Error) => /Did you mean 'initialAccumulatorValue'\?/.test(e.message));
  assert.throws(() => new Nadam({ beta1: 2 }), (e: Error) => /beta1 must be a number in \[0, 1\]/.test(e.message));
  a.dispose();
  n.dispose();
});
