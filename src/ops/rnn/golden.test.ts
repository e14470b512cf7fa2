// rnnSequence against every Keras 3.15.1 recurrent golden case (SimpleRNN,
// LSTM, GRU both resetAfter, unroll), at op level, for both implementations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../../runtime/tfjs.js';
import { rnnSequence, type RnnCellKind } from './index.js';
import { mismatch } from '../../../test/rnn_args.js';

const dir = fileURLToPath(new URL('../../../test/fixtures/keras-3.15.1/', import.meta.url));
const files = readdirSync(dir).filter((f) => /^(simplernn|lstm|gru)_.*\.json$/.test(f)).sort();

interface Arr { shape: number[]; dtype: string; data: (number | boolean | string)[] }
interface LayerCfg { class_name: string; config: Record<string, unknown> }
interface Case {
  config: { config: { layers: LayerCfg[] } };
  weights: { name: string; shape: number[]; data: number[] }[];
  inputs: Arr[];
  tolerance: number;
  layer_outputs: { layer: string; class: string; outputs: Arr[]; masks: (Arr | null)[] }[];
}

const KIND: Record<string, RnnCellKind> = { SimpleRNN: 'simple_rnn', LSTM: 'lstm', GRU: 'gru' };
const num = (v: number | boolean | string): number => (typeof v === 'number' ? v : v === true ? 1 : v === false ? 0 : Number(v));

/** The RNN layer's input, mask and weights, computed from the case's own data. */
function opInputs(c: Case) {
  const layers = c.config.config.layers.filter((l) => l.class_name !== 'InputLayer');
  const rnnAt = layers.findIndex((l) => l.class_name in KIND);
  const rnn = layers[rnnAt]!;
  const prev = rnnAt > 0 ? layers[rnnAt - 1]! : null;
  const name = String(rnn.config.name);
  const own = c.weights.filter((w) => w.name.split('/').includes(name));
  const x0 = c.inputs[0]!;
  const [b, t] = x0.shape as [number, number];
  let x: tf.Tensor3D;
  let mask: boolean[] | null = null;
  if (prev?.class_name === 'Masking') {
    const mv = Number(prev.config.mask_value ?? 0);
    const f = x0.shape[2]!;
    const data = x0.data.map(num);
    mask = Array.from({ length: b * t }, (_, k) => data.slice(k * f, (k + 1) * f).some((v) => v !== mv));
    // Masking zeroes masked steps (with 0.0 whatever mask_value is).
    x = tf.tensor3d(data.map((v, i) => (mask![Math.floor(i / f)] ? v : 0)), [b, t, f]);
  } else if (prev?.class_name === 'Embedding') {
    const emb = c.weights.find((w) => w.name.split('/').includes(String(prev.config.name)))!;
    const d = emb.shape[1]!;
    const ids = x0.data.map(num);
    mask = prev.config.mask_zero === true ? ids.map((id) => id !== 0) : null;
    x = tf.tensor3d(ids.flatMap((id) => emb.data.slice(id * d, (id + 1) * d)), [b, t, d]);
  } else {
    assert.equal(prev, null, `unexpected layer before the RNN: ${prev?.class_name}`);
    x = tf.tensor3d(x0.data.map(num), x0.shape as [number, number, number]);
  }
  // The mask we computed must be the one Keras recorded on the previous layer.
  const recorded = prev === null ? null : c.layer_outputs.find((l) => l.layer === String(prev.config.name))!.masks[0];
  if (recorded) assert.deepEqual(mask, recorded.data.map((v) => v === true || v === 1));
  const cfg = rnn.config;
  const kind = KIND[rnn.class_name]!;
  const u = Number(cfg.units);
  const w = own.map((wt) => tf.tensor(wt.data, wt.shape));
  const want = c.layer_outputs.find((l) => l.layer === name)!.outputs;
  return {
    kind,
    cfg,
    args: {
      kind,
      inputs: x,
      kernel: w[0] as tf.Tensor2D,
      recurrentKernel: w[1] as tf.Tensor2D,
      bias: cfg.use_bias === false ? null : w[2]!,
      resetAfter: cfg.reset_after !== false,
      activation: String(cfg.activation ?? 'tanh'),
      recurrentActivation: String(cfg.recurrent_activation ?? 'sigmoid'),
      mask: mask === null ? null : tf.tensor2d(mask, [b, t], 'bool'),
      initialStates: Array.from({ length: kind === 'lstm' ? 2 : 1 }, () => tf.zeros([b, u]) as tf.Tensor2D),
      goBackwards: cfg.go_backwards === true,
      zeroOutputForMask: cfg.zero_output_for_mask === true,
      returnSequences: cfg.return_sequences === true,
    },
    want,
    returnState: cfg.return_state === true,
    tensors: [x, ...w],
  };
}

test('the golden folder holds every recurrent family', () => {
  for (const prefix of ['simplernn_', 'lstm_', 'gru_', 'gru_reset_after_false_', 'lstm_unroll_']) {
    assert.ok(files.some((f) => f.startsWith(prefix)), `no ${prefix} cases in ${dir}`);
  }
  assert.ok(files.length >= 37, `only ${files.length} recurrent cases`);
});

for (const implementation of ['reference', 'fused'] as const) {
  test(`rnnSequence (${implementation}) matches Keras 3.15.1 on ${files.length} recurrent golden cases`, () => {
    const before = tf.memory().numTensors;
    for (const file of files) {
      const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Case;
      const { args, want, returnState, tensors } = opInputs(c);
      const r = rnnSequence({ ...args, implementation });
      const got = returnState ? [r.output, ...r.states] : [r.output];
      assert.equal(got.length, want.length, `${file}: number of outputs`);
      got.forEach((g, i) => {
        assert.deepEqual(g.shape, want[i]!.shape, `${file}: output ${i} shape`);
        const msg = mismatch(g.dataSync(), want[i]!.data.map(num), c.tolerance, `${file} output ${i}`);
        assert.equal(msg, null, msg ?? '');
      });
      tf.dispose([r.output, ...r.states, ...tensors, ...args.initialStates]);
      args.mask?.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });
}
