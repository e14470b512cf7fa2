/**
 * The shape of the code (docs/architecture.md): the folder layering and the
 * tfjs seam hold, every built-in layer declares its options and output spec,
 * and building or importing a model of built-in layers runs no layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as masque from '../src/index.js';
import { tf, Layer, MasqueError } from '../src/index.js';
import { BUILTIN_LAYERS } from '../src/io/keras_registry.js';
import { caseFileNames, loadCase } from './conformance/cases.js';
// @ts-expect-error: a plain .mjs script without types
import { checkTree } from '../scripts/check_imports.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('check:imports: the folder layering holds and tfjs internals are read only in src/runtime/internals.ts', () => {
  assert.deepEqual(checkTree(ROOT), []);
});

test('check:imports flags a folder cycle, an upward import and an internals read outside the seam', () => {
  const dir = mkdtempSync(join(tmpdir(), 'masque-arch-'));
  try {
    const file = (p: string, text: string) => {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), text);
    };
    file('src/errors.ts', 'export {};\n');
    file('src/engine/a.ts', "import { b } from '../models/b.js';\nexport const a = b;\n");
    file('src/models/b.ts', "import { a } from '../engine/a.js';\nexport const b = 1; void a;\n");
    file('src/ops/c.ts', "import { tf } from '../runtime/tfjs.js';\nexport const c = tf.engine();\n");
    const problems = checkTree(dir) as string[];
    assert.ok(problems.some((p) => /src\/engine\/a\.ts: imports .*engine -> models/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /import cycle between src\/ folders: (engine -> models -> engine|models -> engine -> models)/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /src\/ops\/c\.ts: reads tfjs internals/.test(p)), problems.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every layer class the package exports (models and abstract bases aside). */
function exportedLayerClasses(): [string, typeof Layer][] {
  const out: [string, typeof Layer][] = [];
  for (const [name, v] of Object.entries(masque)) {
    if (typeof v !== 'function' || !(v.prototype instanceof Layer)) continue;
    if (v === masque.Model || v.prototype instanceof masque.Model || name === 'RNNLayer' || name === 'RNNCell' || name === 'AbstractRNNCell') continue;
    out.push([name, v as unknown as typeof Layer]);
  }
  return out;
}

function expectInvalid(make: () => unknown, ...words: RegExp[]): void {
  assert.throws(make, (e: unknown) => {
    assert.ok(e instanceof MasqueError, `expected a MasqueError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_ARGUMENT');
    for (const w of words) assert.match(e.message, w);
    return true;
  });
}

test('every exported layer class declares its options, and an unknown option raises INVALID_ARGUMENT naming it', () => {
  const classes = exportedLayerClasses();
  assert.ok(classes.length >= 35, `found only ${classes.length} layer classes`);
  for (const [name, cls] of classes) {
    const Ctor = cls as unknown as new (a: object) => Layer;
    const table = (cls as unknown as { options: Record<string, unknown> | null }).options;
    assert.ok(table !== null && typeof table === 'object', `${name} declares no options table`);
    expectInvalid(() => new Ctor({ notAnOption: 1 }), /unknown option 'notAnOption'/, new RegExp(name === 'InputLayer' ? 'InputLayer' : (cls as unknown as { className?: string }).className ?? name));
  }
});

test("snake_case spellings and typos of every declared option raise INVALID_ARGUMENT with the camelCase name ('did you mean maskZero?')", () => {
  let checked = 0;
  for (const [, cls] of exportedLayerClasses()) {
    const Ctor = cls as unknown as new (a: object) => Layer;
    for (const option of Object.keys((cls as unknown as { options: object }).options)) {
      if (!/[A-Z]/.test(option)) continue;
      const snake = option.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
      expectInvalid(() => new Ctor({ [snake]: 1 }), new RegExp(`unknown option '${snake}'`), new RegExp(`Did you mean ${option}\\?`));
      checked++;
    }
  }
  assert.ok(checked > 50, `only ${checked} camelCase options checked`);
  expectInvalid(() => new masque.Embedding({ inputDim: 10, outputDim: 4, mask_zero: true } as never), /mask_zero/, /Did you mean maskZero\?/);
  expectInvalid(() => new masque.LSTM({ units: 4, returnSequence: true } as never), /returnSequence'/, /Did you mean returnSequences\?/);
  expectInvalid(() => new masque.Dense({ units: 0 }), /units must be a positive integer; received 0/);
  expectInvalid(() => new masque.Embedding({ inputDim: 10 } as never), /outputDim is required/);
});

test('getConfig returns the declared options with their defaults, and a layer rebuilt from it has the same config', () => {
  const lstm = new masque.LSTM({ units: 3, returnSequences: true });
  const cfg = lstm.getConfig();
  assert.equal(cfg['units'], 3);
  assert.equal(cfg['returnSequences'], true);
  assert.equal(cfg['goBackwards'], false);
  assert.equal(cfg['recurrentActivation'], 'sigmoid');
  const again = new masque.LSTM(cfg as unknown as masque.LSTMArgs);
  assert.deepEqual({ ...again.getConfig(), name: null }, { ...cfg, name: null });
});

/** Replaces `call` on every built-in layer class with a counting wrapper while `fn` runs. */
function countingCalls<T>(fn: () => T): { result: T; calls: number } {
  const restore: (() => void)[] = [];
  let calls = 0;
  const protos = new Set<object>();
  for (const cls of [...BUILTIN_LAYERS, masque.Model, masque.Sequential] as unknown as { prototype: object }[]) {
    for (let p: object | null = cls.prototype; p !== null && p !== Layer.prototype; p = Object.getPrototypeOf(p)) protos.add(p);
  }
  for (const p of protos) {
    if (!Object.prototype.hasOwnProperty.call(p, 'call')) continue;
    const original = (p as { call: (...a: unknown[]) => unknown }).call;
    (p as { call: unknown }).call = function (this: unknown, ...a: unknown[]) {
      calls++;
      return original.apply(this, a);
    };
    restore.push(() => ((p as { call: unknown }).call = original));
  }
  try {
    return { result: fn(), calls };
  } finally {
    restore.forEach((r) => r());
  }
}

test('building Sequential and functional models of built-in layers runs no layer and creates no tensor beyond the weights', () => {
  const before = tf.memory().numTensors;
  const { result: models, calls } = countingCalls(() => {
    const seq = new masque.Sequential([
      masque.Input({ shape: [null], dtype: 'int32' }),
      new masque.Embedding({ inputDim: 20, outputDim: 8, maskZero: true }),
      new masque.Bidirectional({ layer: new masque.LSTM({ units: 4, returnSequences: true }) }),
      new masque.LayerNormalization(),
      new masque.Dropout({ rate: 0.1 }),
      new masque.GRU({ units: 5 }),
      new masque.Dense({ units: 2, activation: 'softmax' }),
    ]);
    const tokens = masque.Input({ shape: [null], dtype: 'int32' });
    const x = new masque.Embedding({ inputDim: 30, outputDim: 8, maskZero: true }).apply(tokens);
    const a = new masque.MultiHeadAttention({ numHeads: 2, keyDim: 4 }).apply([x, x]) as masque.SymbolicTensor;
    const y = new masque.Add().apply([x, a]);
    const z = new masque.SimpleRNN({ units: 3, returnSequences: true }).apply(y) as masque.SymbolicTensor;
    const p = new masque.GlobalAveragePooling1D().apply(z);
    const fn = new masque.Model({ inputs: tokens, outputs: p });
    const outer = masque.Input({ shape: [null], dtype: 'int32' });
    const nested = new masque.Model({ inputs: outer, outputs: new masque.Dense({ units: 1 }).apply(fn.apply(outer) as masque.SymbolicTensor) });
    return [seq, fn, nested];
  });
  assert.equal(calls, 0, 'a layer ran while models were built');
  const weights = new Set(models.flatMap((m) => m.weights.map((w) => w.variable)));
  assert.equal(tf.memory().numTensors - before, weights.size);
  assert.deepEqual(models[0]!.outputs[0]!.shape, [null, 2]);
  assert.deepEqual(models[2]!.outputs[0]!.shape, [null, 1]);
  models.forEach((m) => m.dispose());
  assert.equal(tf.memory().numTensors, before);
});

test('importing every shipped Keras model case runs no layer and creates no tensor beyond the weights', () => {
  const dirs = ['keras-3.15.1', 'keras-3.15.1-more', 'keras-3.15.1-norm-extra'].map((d) => fileURLToPath(new URL(`./fixtures/${d}/`, import.meta.url)));
  let imported = 0;
  for (const f of dirs.flatMap((dir) => caseFileNames(dir).map((n) => join(dir, n)))) {
    const c = loadCase(f);
    if (c['kind'] !== 'model') continue;
    const before = tf.memory().numTensors;
    let model: masque.Model | null = null;
    const { calls } = countingCalls(() => {
      try {
        model = masque.modelFromKerasConfig(c['config'], undefined, { maskPolicy: 'ignore' });
      } catch (e) {
        if (!(e instanceof MasqueError)) throw e;
      }
    });
    assert.equal(calls, 0, `${f}: a layer ran while the model was imported`);
    if (model !== null) {
      const m = model as masque.Model;
      assert.equal(tf.memory().numTensors - before, new Set(m.weights.map((w) => w.variable)).size, f);
      m.dispose();
      imported++;
    }
    assert.equal(tf.memory().numTensors, before, f);
  }
  // Every model case imports (154 of the first set, 167 of the others): a MasqueError above would lower the count.
  assert.equal(imported, 321);
});
