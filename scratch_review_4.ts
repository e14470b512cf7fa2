import { tf, ready, ops } from './src/index.js';
await ready();
const x = tf.tensor2d([[1, -2, 3], [4, 0, -6]]);
const xi = tf.tensor2d([[1, -2, 3], [4, 0, -6]], undefined, 'int32');
const ids = tf.tensor2d([[1, 2], [0, -1]], undefined, 'int32');
const fns: [string, () => tf.Tensor][] = [
  ['sign', () => ops.sign(x)], ['clip', () => ops.clip(x, 0, 1)], ['clipi', () => ops.clip(xi, 0.5, 2)], ['fd', () => ops.floorDivide(x, 0.3)], ['mod', () => ops.mod(xi, 0)],
  ['round', () => ops.round(xi, -1)], ['argmax', () => ops.argmax(x, { axis: 1 })], ['cumsum', () => ops.cumsum(x, { axis: 0 })], ['norm', () => ops.normalize(x, { order: 3 })],
  ['lse', () => ops.logsumexp(x, { axis: 1 })], ['take', () => ops.take(x, [0, -1], { axis: 1 })], ['taket', () => ops.take(x, ids, { axis: 1 })], ['onehot', () => ops.oneHot(ids, 3, { axis: 0 })],
  ['tile', () => ops.tile(x, [2, 0])], ['repeat', () => ops.repeat(x, [1, 0, 2], { axis: 1 })], ['stack', () => ops.stack([x, xi])], ['gelu', () => ops.gelu(x)], ['lrelu', () => ops.leakyRelu(x)],
  ['var', () => ops.var(x)], ['prod', () => ops.prod(xi, { dtype: 'float32' })], ['hs', () => ops.hardSilu(x)], ['elu', () => ops.elu(x)],
];
for (const [n, f] of fns) { const before = tf.memory().numTensors; const r = f(); r.dispose(); const after = tf.memory().numTensors; if (after !== before) console.log('LEAK', n, after - before); }
// under grad
const before = tf.memory().numTensors;
const g = tf.grad((v: tf.Tensor) => tf.sum(ops.argmax(v, { axis: 1 }).toFloat().mul(v.sum())))(x); g.dispose();
console.log('grad leak', tf.memory().numTensors - before, 'done');
