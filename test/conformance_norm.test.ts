// The normalization family against Keras 3.15.1: the batchnorm_, groupnorm_,
// unitnorm_, preprocessing_ and nonmasking_rmsnormalization cases of
// ../shared/conformance/keras-3.15.1-more (copied into
// test/fixtures/keras-3.15.1-more) through the conformance runner, and the
// departures' checks: routed to the right departure, and failing when Masque
// reproduces Keras's defect. Also test/fixtures/keras-3.15.1-norm-extra: more
// options of the family, made by the gen_norm_extra.py beside them
//   /work/oracle/py gen_norm_extra.py --seed 0 --out <dir>
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, getMask, BatchNormalization, attachMask, loadModelFromBytes } from '../src/index.js';
import { decodeNumbers, loadCase, type Case, type CaseArray } from './conformance/cases.js';
import { runCase, runConformance, summarize, buildCaseModel, runCaseModel } from './conformance/runner.js';
import { departures } from './conformance/departures.js';
import { checkNormDepartures } from './conformance/departures_norm.js';

const dir = fileURLToPath(new URL('./fixtures/keras-3.15.1-more/', import.meta.url));
const PREFIXES = ['batchnorm_', 'groupnorm_', 'unitnorm_', 'preprocessing_', 'nonmasking_rmsnormalization'];
const load = (name: string): Case => loadCase(join(dir, `${name}.json`));
const departureId = (c: Case): string | undefined => departures.find((d) => d.appliesTo(c))?.id;

test('the normalization cases of keras-3.15.1-more: 35 pass, none skipped', async () => {
  const results = await runConformance(dir, { only: PREFIXES });
  console.log(summarize(results));
  assert.deepEqual(results.filter((r) => r.status !== 'pass').map((r) => `${r.status} ${r.name}: ${r.message}`), []);
  assert.equal(results.length, 35);
});

const extra = fileURLToPath(new URL('./fixtures/keras-3.15.1-norm-extra/', import.meta.url));

test('more options of the family (keras-3.15.1-norm-extra): 19 pass, none skipped; a Keras-adapted Normalization loads from its .keras file', async () => {
  const results = await runConformance(extra);
  console.log(summarize(results));
  assert.deepEqual(results.filter((r) => r.status !== 'pass').map((r) => `${r.status} ${r.name}: ${r.message}`), []);
  assert.equal(results.length, 19);
  const c = loadCase(join(extra, 'norm_normalization_adapted.json'));
  const model = await loadModelFromBytes(readFileSync(join(extra, 'norm_normalization_adapted.keras')));
  try {
    assert.deepEqual(model.weights.map((w) => `${w.path}:${w.variable.dtype}`).slice(0, 3), ['normalization/mean:float32', 'normalization/variance:float32', 'normalization/count:int32']);
    tf.tidy(() => {
      const y = model.apply(tf.tensor(c['inputs'][0]['data'], c['inputs'][0]['shape'])) as tf.Tensor;
      const want = decodeNumbers(c['outputs'][0] as CaseArray);
      y.dataSync().forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)), `element ${i}: ${v} vs ${want[i]}`));
    });
  } finally {
    model.dispose();
  }
});

test('departure routing: GroupNormalization and UnitNormalization over time to the valid-moments check, the one-channel error to the BatchNormalization check, Softmax errors still to theirs', () => {
  for (const name of ['groupnorm_masking_post_groups2', 'groupnorm_same_prefix_different_padding', 'groupnorm_then_lstm', 'unitnorm_axis_time_embedding', 'unitnorm_axes_time_features_masking']) {
    assert.equal(departureId(load(name)), 'norm-valid-moments', name);
  }
  for (const name of ['unitnorm_masking_post', 'batchnorm_training_masking_post', 'preprocessing_normalization_masking_lstm']) assert.equal(departureId(load(name)), undefined, name);
  assert.equal(departureId(load('nonmasking_rmsnormalization_after_embedding')), 'mask-not-supported-raises');
  assert.equal(departureId(load('batchnorm_training_single_channel_error')), 'batchnorm-single-channel');
  const softmax = loadCase(fileURLToPath(new URL('./fixtures/keras-3.15.1/softmax_layer_receives_timestep_mask_error.json', import.meta.url)));
  assert.equal(departureId(softmax), 'softmax-mask-error');
});

/** A tensor holding `a`, with the mask of `like`. */
function keeping(like: tf.Tensor, a: CaseArray): tf.Tensor {
  const t = tf.tensor(Array.from(decodeNumbers(a)), a.shape, 'float32');
  const m = getMask(like);
  if (m !== null) attachMask(t, tf.clone(m));
  return t;
}

test('the valid-moments check fails when Masque gives Keras\'s numbers (statistics over the padding)', () => {
  for (const name of ['groupnorm_masking_post_groups2', 'groupnorm_embedding_pre_groups2', 'groupnorm_instance_norm_groups_minus1', 'groupnorm_groups1_masking_hole', 'groupnorm_no_center_scale_embedding', 'groupnorm_same_prefix_different_padding', 'groupnorm_then_lstm', 'unitnorm_axis_time_embedding']) {
    const c = load(name);
    const flagged = (c['config']['config']['layers'] as Case[]).filter((l) => ['GroupNormalization', 'UnitNormalization'].includes(l['class_name'])).map((l) => String(l['config']['name']));
    const r = checkNormDepartures(c, { substitute: (layer, outs, keras) => (flagged.includes(layer) ? outs.map((o, i) => keeping(o, keras[i]!)) : outs) });
    assert.equal(r.status, 'fail', `${name}: Keras's own numbers should fail the check`);
    assert.match(r.message, /float64 reference, (GroupNormalization|UnitNormalization)/);
  }
});

test('the one-channel BatchNormalization check fails when the moments include the padding', async () => {
  const c = load('batchnorm_training_single_channel_error');
  assert.equal((await runCase(c)).status, 'pass');
  const call = Object.getOwnPropertyDescriptor(BatchNormalization.prototype, 'call')!.value as (this: BatchNormalization, x: tf.Tensor, a: object) => tf.Tensor;
  BatchNormalization.prototype.call = function (x: tf.Tensor, a: object) {
    return call.call(this, x, { ...a, mask: null });
  };
  try {
    const r = await runCase(c);
    assert.equal(r.status, 'fail');
    assert.match(r.message, /float64 reference/);
  } finally {
    BatchNormalization.prototype.call = call;
  }
});

test('groupnorm_same_prefix_different_padding: Masque\'s valid outputs do not depend on the extra padding (Keras\'s differ)', () => {
  const c = load('groupnorm_same_prefix_different_padding');
  const model = buildCaseModel(c);
  try {
    tf.tidy(() => {
      const [a, b] = runCaseModel(model, c).outputs as [tf.Tensor, tf.Tensor];
      const [ma, mb] = [getMask(a)!, getMask(b)!];
      const t2 = b.shape[1]!;
      const pa = tf.slice(a, [0, 0, 0], [-1, t2, -1]).arraySync() as number[][][];
      const pb = b.arraySync() as number[][][];
      const va = tf.slice(ma, [0, 0], [-1, t2]).arraySync() as unknown as boolean[][];
      const vb = mb.arraySync() as unknown as boolean[][];
      let compared = 0;
      let kerasGap = 0;
      const ka = c['outputs'][0] as CaseArray;
      const kb = c['outputs'][1] as CaseArray;
      const ta = a.shape[1]!;
      const f = a.shape[2]!;
      pb.forEach((row, i) => row.forEach((step, t) => {
        if (!vb[i]![t] || !va[i]![t]) return;
        step.forEach((v, k) => {
          assert.ok(Math.abs(v - pa[i]![t]![k]!) < 1e-5, `row ${i} step ${t}: ${v} vs ${pa[i]![t]![k]}`);
          kerasGap = Math.max(kerasGap, Math.abs(Number(kb.data[(i * t2 + t) * f + k]) - Number(ka.data[(i * ta + t) * f + k])));
          compared++;
        });
      }));
      assert.ok(compared > 0);
      assert.ok(kerasGap > 0.01, `Keras's outputs differ by ${kerasGap}`);
    });
  } finally {
    model.dispose();
  }
});
