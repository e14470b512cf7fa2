import { tf, ready, ops } from './src/index.js';
await ready();
let lo = 1e-12, hi = 1e-3;
for (let k = 0; k < 60; k++) { const mid = Math.sqrt(lo * hi); const s = tf.sign(tf.tensor1d([mid])).dataSync()[0]; if (s === 1) hi = mid; else lo = mid; }
console.log('threshold ~', lo, hi, Math.fround(hi));

