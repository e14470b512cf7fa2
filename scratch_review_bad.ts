import { tf, ready, ops, Input, Model } from './src/index.js';
await ready();
const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
const xi = tf.tensor2d([[1, 2, 3], [4, 5, 6]], undefined, 'int32');
const s = Input({ shape: [3] });
const si = Input({ shape: [3], dtype: 'int32' });
const probes: [string, () => unknown][] = [
  ['tile str', () => ops.tile(x, 'a' as any)], ['tile null', () => ops.tile(x, null as any)], ['tile float', () => ops.tile(x, [1.5] as any)],
  ['take obj', () => ops.take(x, {} as any)], ['take null', () => ops.take(x, null as any)], ['take true', () => ops.take(x, true as any)],
  ['take ragged', () => ops.take(x, [[0, 1], [2]] as any)], ['take str', () => ops.take(x, 'a' as any)], ['take undefined', () => ops.take(x, undefined as any)],
  ['take empty nested', () => ops.take(x, [[]] as any)], ['take NaN', () => ops.take(x, [NaN] as any)], ['take huge', () => ops.take(x, [2 ** 40] as any)],
  ['take 3 args', () => (ops as any).take(x, [0], { axis: 5 })], ['take sym axis 5', () => ops.take(s, [0], { axis: 5 })],
  ['take bool tensor', () => ops.take(x, tf.tensor1d([true], 'bool') as any)],
  ['onehot 0', () => ops.oneHot(xi, 0)], ['onehot str dtype', () => ops.oneHot(xi, 3, { dtype: 'string' })], ['onehot bad dtype', () => ops.oneHot(xi, 3, { dtype: 'foo' })],
  ['onehot axis 5', () => ops.oneHot(xi, 3, { axis: 5 })], ['onehot float nc', () => ops.oneHot(xi, 2.5)], ['onehot sym float', () => ops.oneHot(s, 3)],
  ['repeat float', () => ops.repeat(x, [1.5] as any)], ['repeat neg', () => ops.repeat(x, -1)], ['repeat axis 5', () => ops.repeat(x, 2, { axis: 5 })],
  ['repeat sym list mismatch', () => ops.repeat(s, [1, 2], { axis: 1 })], ['repeat sym none list', () => ops.repeat(s, [1, 2])],
  ['stack empty', () => ops.stack([])], ['stack axis 5', () => ops.stack([x, x], { axis: 5 })], ['stack non-tensor', () => ops.stack([x, 3 as any])],
  ['stack sym mixed', () => ops.stack([s, si])],
  ['clip str', () => ops.clip(x, '1' as any, 2)], ['clip undefined', () => ops.clip(x, undefined as any, 2)], ['clip both undefined', () => (ops as any).clip(x)],
  ['norm axis 5', () => ops.normalize(x, { axis: 5 })], ['norm order 2.5', () => ops.normalize(x, { order: 2.5 })], ['norm eps 0', () => ops.normalize(x, { epsilon: 0 })], ['norm eps neg', () => ops.normalize(x, { epsilon: -1 })],
  ['norm axis dup', () => ops.normalize(x, { axis: [0, 0] })], ['norm empty axis list', () => ops.normalize(x, { axis: [] })],
  ['cumsum axis 5', () => ops.cumsum(x, { axis: 5 })], ['cumsum dtype foo', () => ops.cumsum(x, { dtype: 'foo' })], ['cumsum dtype string', () => ops.cumsum(x, { dtype: 'string' })],
  ['argmax axis 1.5', () => ops.argmax(x, { axis: 1.5 })], ['argmax axis list', () => ops.argmax(x, { axis: [0, 1] as any })], ['argmax axis 5', () => ops.argmax(x, { axis: 5 })],
  ['argmax empty none', () => ops.argmax(tf.zeros([0]))], ['argmax scalar axis 0', () => ops.argmax(tf.scalar(1), { axis: 0 })],
  ['round 100', () => ops.round(x, 100)], ['round str', () => ops.round(x, 'a' as any)],
  ['prod dtype foo', () => ops.prod(x, { dtype: 'foo' })], ['prod axis 5', () => ops.prod(x, { axis: 5 })], ['var axis dup', () => ops.var(x, { axis: [1, -1] })],
  ['lse axis 5', () => ops.logsumexp(x, { axis: 5 })], ['lse empty', () => ops.logsumexp(tf.zeros([2, 0]), { axis: 1 })],
  ['fd str', () => ops.floorDivide(x, 'a' as any)], ['mod null', () => ops.mod(x, null as any)], ['mod two numbers', () => ops.mod(3 as any, 4)],
  ['gelu int', () => ops.gelu(xi)], ['elu alpha str', () => ops.elu(x, { alpha: 'a' as any })], ['lrelu NaN', () => ops.leakyRelu(x, { negativeSlope: NaN })],
  ['sign sym bool', () => ops.sign(Input({ shape: [2], dtype: 'bool' }))],
  ['tile sym unknown', () => ops.tile(s, [2, 2, 2])],
  ['cumsum rank0 axis0', () => ops.cumsum(tf.scalar(2), { axis: 0 })], ['repeat rank0 axis0', () => ops.repeat(tf.scalar(2), 2, { axis: 0 })],
  ['take rank0', () => ops.take(tf.scalar(2), [0])], ['take rank0 axis0', () => ops.take(tf.scalar(2), [0], { axis: 0 })],
  ['onehot rank0', () => ops.oneHot(tf.scalar(1, 'int32'), 3)], ['norm rank0', () => ops.normalize(tf.scalar(-3))],
  ['stack rank0', () => ops.stack([tf.scalar(1), tf.scalar(2)], { axis: -1 })],
  ['take empty x', () => ops.take(tf.zeros([0, 3]), [0], { axis: 0 })], ['take empty idx on empty x', () => ops.take(tf.zeros([0, 3]), [], { axis: 0 })],
  ['tile big', () => ops.tile(x, [1e6, 1e6])],
];
for (const [n, f] of probes) {
  try { const r: any = f(); console.log(n, '-> ok', r?.dtype, JSON.stringify(r?.shape), r instanceof tf.Tensor ? JSON.stringify(Array.from(r.dataSync()).slice(0, 8)) : ''); }
  catch (e: any) { console.log(n, '->', e.constructor.name === 'MasqueError' ? 'MasqueError ' + e.code : '*** ' + e.constructor.name, String(e.message).slice(0, 130)); }
}
