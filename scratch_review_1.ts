import { tf, ready, ops } from './src/index.js';
await ready();
function show(name: string, f: () => any) {
  try { const r = f(); console.log(name, '->', r.dtype, JSON.stringify(r.shape), JSON.stringify(Array.from(r.dataSync()).map((v: any) => Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v))); }
  catch (e: any) { console.log(name, '-> ERR', e.constructor.name, e.code, String(e.message).slice(0, 150)); }
}
const i = tf.tensor([-7, -3, 0, 3, 7], [5], 'int32');
const b = tf.tensor([true, false, true, false, true] as any, [5], 'bool');
const f = tf.tensor([-7.5, -3.0, -0.0, 3.0, 7.0], [5], 'float32');
show('fd bool//bool', () => ops.floorDivide(b, b));
show('fd bool//2', () => ops.floorDivide(b, 2));
show('fd bool//2.5', () => ops.floorDivide(b, 2.5));
show('fd int//2.5', () => ops.floorDivide(i, 2.5));
show('fd 7//int', () => ops.floorDivide(7, i));
show('fd int//True', () => ops.floorDivide(i, true as any));
show('fd b//True', () => ops.floorDivide(b, true as any));
show('mod bool%bool', () => ops.mod(b, b));
show('mod bool%2', () => ops.mod(b, 2));
show('mod bool%True', () => ops.mod(b, true as any));
show('mod int%True', () => ops.mod(i, true as any));
show('mod int%2.5', () => ops.mod(i, 2.5));
show('mod f%0', () => ops.mod(f, 0));
show('mod i%0', () => ops.mod(i, 0));
show('fd i//0', () => ops.floorDivide(i, 0));
show('fd f//0', () => ops.floorDivide(f, 0));
show('mod f%-inf', () => ops.mod(f, -Infinity));
show('fd f//inf', () => ops.floorDivide(f, Infinity));
show('mod f%inf', () => ops.mod(f, Infinity));
show('clip i 0.5 2', () => ops.clip(i, 0.5, 2));
show('clip i -0.5 None', () => ops.clip(i, -0.5, null));
show('clip i None 2.7', () => ops.clip(i, null, 2.7));
show('clip b 0 1', () => ops.clip(b, 0, 1));
show('clip b 0.5 1', () => ops.clip(b, 0.5, 1));
show('clip f 3 1', () => ops.clip(f, 3, 1));
show('clip big', () => ops.clip(tf.tensor([16777217], [1], 'int32'), 0.5, null));
show('clip f nan', () => ops.clip(f, NaN, 1));
show('round i -1', () => ops.round(tf.tensor([15, 25, -15, 35, 45, 123456789], [6], 'int32'), -1));
show('round f -1', () => ops.round(tf.tensor([15, 25, -15, 35, 45.0], [5], 'float32'), -1));
show('round f 2', () => ops.round(tf.tensor([1.005, 2.675, 0.125, 0.375], [4], 'float32'), 2));
show('round i 2', () => ops.round(i, 2));
show('sign b', () => ops.sign(b));
show('sign i', () => ops.sign(i));
show('sign -0', () => ops.sign(f));
