// Masque's gradients against Keras's: for each case of a conformance folder
// (the model, weights and inputs), a file of Keras's float64 directional
// derivatives of a weighted sum of the valid outputs (scripts/grad_oracle.py;
// fixtures/keras-3.15.1-gradients/README.md has the commands). Masque's
// float32 gradient along each direction must match within 1e-5 in the
// measure of conformance/gradients.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ready, setWarningHandler, tf } from '../src/index.js';
import { caseFileNames, loadCase } from './conformance/cases.js';
import { runConformance, summarize } from './conformance/runner.js';
import { compareGradientFolder, compareGradients, loadGradCase } from './conformance/gradients.js';

const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));
const grads = join(fixtures, 'keras-3.15.1-gradients');
const TOL = 1e-5;

/**
 * [cases folder, gradients folder, how many gradient files it must hold, and
 * the fewest directions per case on average: 2, or 1 for models of
 * operations, many of which have no weight (one direction: the input)].
 */
const SETS: [string, string, number, number?][] = [
  [join(grads, 'fuzz'), join(grads, 'fuzz-grads'), 71],
  [join(fixtures, 'keras-3.15.1-more'), join(grads, 'more-grads'), 145],
  [join(fixtures, 'keras-3.15.1'), join(grads, 'hand-grads'), 148],
  [join(fixtures, 'keras-3.15.1-norm-extra'), join(grads, 'norm-grads'), 18],
  [join(fixtures, 'keras-3.15.1-conv'), join(grads, 'conv-grads'), 18],
  [join(fixtures, 'keras-3.15.1-seqshape'), join(grads, 'seqshape-grads'), 40],
  [join(fixtures, 'keras-3.15.1-convlstm'), join(grads, 'convlstm-grads'), 14],
  [join(fixtures, 'keras-3.15.1-ops'), join(grads, 'ops-grads'), 29],
  [join(fixtures, 'keras-3.15.1-ops-fuzz'), join(grads, 'ops-fuzz-grads'), 145, 1],
  [join(fixtures, 'keras-3.15.1-ops-more-fuzz'), join(grads, 'ops-more-fuzz-grads'), 144, 1],
  [join(fixtures, 'keras-3.15.1-ops-third-fuzz'), join(grads, 'ops-third-fuzz-grads'), 136, 1],
];

for (const [cases, gradsDir, count, perCase = 2] of SETS) {
  test(`gradients, ${gradsDir.split('/').pop()}: Masque along each direction = Keras float64 finite differences, within 1e-5`, async () => {
    await ready();
    const restore = setWarningHandler(() => {});
    try {
      const files = caseFileNames(gradsDir);
      assert.equal(files.length, count, `expected ${count} gradient files in ${gradsDir}`);
      const before = tf.memory().numTensors;
      const { compared } = compareGradientFolder(cases, gradsDir, TOL);
      const bad: string[] = [];
      let directions = 0;
      for (const { result: r, directions: n } of compared) {
        directions += n;
        // The oracle's own uncertainty must be far below the tolerance in every direction, or the case proves less than it says.
        assert.equal(r.unsure, 0, `${r.name}: the oracle cannot resolve ${r.unsure} direction(s) to a tenth of ${TOL}`);
        if (r.error !== undefined || !(r.worst <= TOL)) bad.push(`${r.name}: ${r.error ?? `${r.worst.toExponential(2)} (${r.detail})`}`);
      }
      const checked = compared.length;
      assert.deepEqual(bad, []);
      assert.ok(checked >= count * 0.7, `only ${checked} of ${count} cases were checked`);
      assert.ok(directions >= perCase * checked, `only ${directions} directions for ${checked} cases`);
      assert.equal(tf.memory().numTensors, before, 'the gradient checks leaked tensors');
    } finally {
      setWarningHandler(restore);
    }
  });
}

for (const [folder, about, count] of [
  ['keras-3.15.1-conv', 'Conv1D, the 1-D poolings, cropping, padding; made by its gen_conv.py', 18],
  ['keras-3.15.1-seqshape', 'RepeatVector, Permute, UpSampling1D, Conv1DTranspose, DepthwiseConv1D, SeparableConv1D, the adaptive poolings; made by its gen_seqshape.py', 40],
  ['keras-3.15.1-ops', 'operations between layers: arithmetic, elementwise functions and activations, softmax, reductions, transpose, reshape, matmul, where, indexing, stack, tile, repeat, take, one_hot, sort, top_k, cumprod, split, unstack, take_along_axis, pad, einsum diagonals, the fourth and fifth sets; made by its gen_ops.py', 50],
  ['keras-3.15.1-ops-fuzz', 'random models of operations (fuzz_ops.py --seed 1 --count 150 of keras-3.15.1-ops)', 146],
  ['keras-3.15.1-ops-more-fuzz', 'random models drawing the second set of operations too (fuzz_ops.py --more --seed 1 --count 150)', 148],
  ['keras-3.15.1-ops-third-fuzz', 'random models drawing the third set too: sort, argsort, top_k, cumprod, split, unstack, pad, einsum diagonals, take_along_axis, the fourth set (fuzz_ops.py --third --seed 1 --count 150)', 145],
] as const) {
  test(`${folder} (${about}): the outputs match Keras`, async () => {
    const results = await runConformance(join(fixtures, folder));
    console.log(summarize(results));
    assert.equal(results.length, count);
    assert.deepEqual(results.filter((r) => r.status !== 'pass').map((r) => `${r.status} ${r.name}: ${r.message}`), []);
  });
}

test('the gradient check is tight: a derivative moved by twice the tolerance fails', async () => {
  await ready();
  const [cases, gradsDir] = SETS[0]!;
  // The first direction of each of the first five cases, moved by 2e-5 of its scale: each must now fail.
  for (const f of caseFileNames(gradsDir).slice(0, 5)) {
    const c = loadCase(join(cases, f));
    const g = loadGradCase(join(gradsDir, f));
    const scale = compareGradients(c, g).scales[0]!;
    const [d, ...rest] = g.directions;
    const r = compareGradients(c, { ...g, directions: [{ ...d!, derivative: d!.derivative + 2 * TOL * scale }, ...rest] });
    assert.ok(r.error === undefined && r.worst > TOL, `${r.name}: a derivative moved by ${2 * TOL * scale} still passed (worst ${r.worst})`);
  }
});
