import { tf, ready, Sequential, Embedding, GRU, Bidirectional, Dense, padSequences, Adam } from '../src/index.js';
await ready();
const seqs = [[3, 1, 4], [1, 5], [9, 2, 6, 5]];
const tags = seqs.map((s) => s.map((t) => t % 3));
const make = () => new Sequential({ layers: [new Embedding({ inputDim: 10, outputDim: 4, maskZero: true }), new Bidirectional({ layer: new GRU({ units: 3, returnSequences: true }) }), new Dense({ units: 3, activation: 'softmax' })] });
for (let trial = 0; trial < 40; trial++) {
const base = make(); base.build([null, 4]); const init = base.getWeights(); base.dispose();
const out: number[][] = [];
for (const extra of [0, 8]) {
  const model = make(); model.build([null, 4]); model.setWeights(init);
  model.compile({ optimizer: new Adam({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const maxlen = 4 + extra;
  const x = padSequences(seqs, { maxlen, padding: 'post' });
  const y = padSequences(tags, { maxlen, padding: 'post', value: extra ? NaN : 0, dtype: 'float32' });
  out.push(model.trainOnBatch(x, y) as number[]);
  model.dispose();
}
if (Math.abs(out[0]![0]! - out[1]![0]!) > 1e-5) { console.log(trial, out); }
}
console.log('done');
