/**
 * The bad-input suite: random, unusual and malformed input thrown at the
 * public API (padSequences, every layer constructor, layer calls, model
 * predict/fit/evaluate, Keras config import, `.keras` bytes). Every outcome
 * must be a result or a MasqueError with a code; the process and the wasm
 * backend must survive; the tensor count must not grow.
 *
 * `runBadInputSuite(runs)` is used by test/bad_input.test.ts (a short run in
 * `npm test`) and by `npm run fuzz:bad-input` (a long one).
 */
import { parseKerasJson } from '../../src/io/keras_json.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import * as masque from '../../src/index.js';
import { tf, MasqueError, Layer } from '../../src/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/keras-3.15.1/', import.meta.url));

/** Codes a MasqueError may carry (src/errors.ts). */
const CODES = new Set<string>([
  'MASK_NOT_SUPPORTED', 'MASK_SHAPE_MISMATCH', 'MASK_INVALID', 'INVALID_ARGUMENT', 'INVALID_SEQUENCES', 'INVALID_INPUT', 'INPUT_SHAPE_MISMATCH',
  'NOT_BUILT', 'GRAPH_DISCONNECTED', 'UNKNOWN_LAYER_CLASS', 'UNSUPPORTED_CONFIG', 'INVALID_CONFIG', 'WEIGHT_COUNT_MISMATCH', 'WEIGHT_SHAPE_MISMATCH',
  'WEIGHT_MISSING', 'CORRUPT_FILE', 'SAVE_FAILED', 'UNSUPPORTED_FILE', 'NOT_COMPILED', 'UNKNOWN_NAME', 'BACKEND_UNAVAILABLE', 'NODE_ONLY', 'MODEL_BUSY', 'LAYER_CALL_FAILED',
]);

export interface Tally {
  results: number;
  errors: Map<string, number>;
  /** Anything that is not a result or a coded MasqueError, with the input that caused it. */
  bad: string[];
}

function newTally(): Tally {
  return { results: 0, errors: new Map(), bad: [] };
}

/** Values that break naive code: wrong types, special numbers, prototype names, cycles. */
function oddValue(): fc.Arbitrary<unknown> {
  const cyclic = (): unknown[] => {
    const a: unknown[] = [1];
    a.push(a);
    return a;
  };
  return fc.oneof(
    fc.constantFrom<unknown>(null, undefined, NaN, Infinity, -Infinity, -1, 0, 1.5, 1e9, -0, '', 'abc', '__proto__', 'constructor', 'toString', true, false, [], [[]], {}, () => 1),
    fc.integer({ min: -3, max: 8 }),
    fc.double({ min: -10, max: 10, noNaN: false }),
    fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 4 }),
    fc.constant(null).map(cyclic),
    fc.string({ maxLength: 6 }),
  );
}

/**
 * Runs `fn`; records a result, a coded MasqueError, or a bad outcome (with
 * `what` for the report). `owned` counts tensors that legitimately outlive
 * the call (the weights a layer builds on its first call).
 */
function outcome(t: Tally, what: () => string, fn: () => unknown, owned: () => number = () => 0): void {
  const before = tf.memory().numTensors;
  let value: unknown;
  try {
    value = fn();
    t.results++;
  } catch (e) {
    if (e instanceof MasqueError && CODES.has(e.code) && e.message.length > 0) t.errors.set(e.code, (t.errors.get(e.code) ?? 0) + 1);
    else t.bad.push(`${what()}: ${e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)}`);
  }
  disposeAll(value);
  const after = tf.memory().numTensors;
  if (after - before !== owned()) t.bad.push(`${what()}: the tensor count went from ${before} to ${after}${owned() > 0 ? ` (${owned()} new weights)` : ''}`);
  checkBackendAlive(t, what);
}

async function outcomeAsync(t: Tally, what: () => string, fn: () => Promise<unknown>): Promise<void> {
  if (process.env['MASQUE_BAD_INPUT_VERBOSE'] === '2') console.error(`  ${what()}`);
  const before = tf.memory().numTensors;
  let value: unknown;
  try {
    value = await fn();
    t.results++;
  } catch (e) {
    if (e instanceof MasqueError && CODES.has(e.code) && e.message.length > 0) t.errors.set(e.code, (t.errors.get(e.code) ?? 0) + 1);
    else t.bad.push(`${what()}: ${e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)}`);
  }
  disposeAll(value);
  const after = tf.memory().numTensors;
  if (after !== before) t.bad.push(`${what()}: the tensor count went from ${before} to ${after}`);
  checkBackendAlive(t, what);
}

function disposeAll(v: unknown, seen = new Set<unknown>()): void {
  if (seen.has(v)) return;
  seen.add(v);
  if (v instanceof tf.Tensor) v.dispose();
  else if (Array.isArray(v)) v.forEach((x) => disposeAll(x, seen));
  else if (v instanceof Layer) v.dispose();
  else if (v instanceof masque.Optimizer) v.dispose();
  else if (v !== null && typeof v === 'object' && 'padded' in (v as object)) disposeAll((v as { padded: unknown }).padded, seen);
  else if (v !== null && typeof v === 'object' && 'x' in (v as object) && 'lengths' in (v as object)) disposeAll((v as { x: unknown }).x, seen);
}

/** A wasm trap can leave the backend dead: every op after it fails. */
function checkBackendAlive(t: Tally, what: () => string): void {
  try {
    const x = tf.tensor1d([1, 2]);
    const y = tf.add(x, x);
    const ok = (y.dataSync() as Float32Array)[1] === 4;
    tf.dispose([x, y]);
    if (!ok) throw new Error('wrong sum');
  } catch (e) {
    t.bad.push(`${what()}: the backend no longer works afterwards (${e instanceof Error ? e.message : String(e)})`);
    throw new Error(`backend dead after ${what()}`);
  }
}

const show = (v: unknown): string => {
  const seen = new WeakSet<object>();
  try {
    const text = JSON.stringify(v, (_k, x: unknown) => {
      if (x instanceof tf.Tensor) return `tensor(${x.dtype}, [${x.shape}])`;
      if (typeof x === 'function') return 'fn';
      if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
      if (x !== null && typeof x === 'object') {
        if (seen.has(x)) return '[cyclic]';
        seen.add(x);
      }
      return x;
    });
    return (text ?? String(v)).slice(0, 200);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

// ---- padSequences ----

function padSequencesCases(t: Tally, runs: number, seed: number): void {
  const seq = fc.oneof(fc.array(fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double(), fc.string({ maxLength: 2 }), oddValue()), { maxLength: 5 }), oddValue());
  const options = fc.oneof(
    fc.constant(undefined),
    oddValue(),
    fc.record(
      {
        maxlen: oddValue(),
        dtype: fc.oneof(fc.constantFrom('int32', 'float32', 'bool', 'string', 'int8', 'uint8', 'object', 'float64'), oddValue()),
        padding: fc.oneof(fc.constantFrom('pre', 'post'), oddValue()),
        truncating: fc.oneof(fc.constantFrom('pre', 'post'), oddValue()),
        value: oddValue(),
        max_len: oddValue(),
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(fc.oneof(fc.array(seq, { maxLength: 4 }), oddValue()), options, (seqs, opts) => {
      outcome(t, () => `padSequences(${show(seqs)}, ${show(opts)})`, () => masque.padSequences(seqs as number[][], opts as masque.PadSequencesOptions));
    }),
    { numRuns: runs, seed },
  );
  outcome(t, () => 'padSequences maxlen 3e8', () => masque.padSequences([[1, 2, 3]], { maxlen: 3e8 }));
}

// ---- layers ----

/** Valid options for each exported layer class (the rest are built from {}). */
const VALID: Record<string, () => object> = {
  Embedding: () => ({ inputDim: 10, outputDim: 3 }),
  Dense: () => ({ units: 2 }),
  Activation: () => ({ activation: 'relu' }),
  Dropout: () => ({ rate: 0.5 }),
  GaussianNoise: () => ({ stddev: 0.1 }),
  Reshape: () => ({ targetShape: [-1] }),
  SimpleRNN: () => ({ units: 2 }),
  LSTM: () => ({ units: 2 }),
  GRU: () => ({ units: 2 }),
  Bidirectional: () => ({ layer: new masque.LSTM({ units: 2 }) }),
  TimeDistributed: () => ({ layer: new masque.Dense({ units: 2 }) }),
  MultiHeadAttention: () => ({ numHeads: 2, keyDim: 2 }),
  Conv1D: () => ({ filters: 2, kernelSize: 3 }),
  Dot: () => ({ axes: 1 }),
  Lambda: () => ({ fn: (x: tf.Tensor | tf.Tensor[]) => (Array.isArray(x) ? x[0]! : tf.mul(x, 2)) }),
  InputLayer: () => ({ shape: [null, 3] }),
  // normalization family (issue 14)
  Rescaling: () => ({ scale: 0.5 }),
  // attention, activations and regularization (issue 14)
  GroupQueryAttention: () => ({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 1 }),
  GroupedQueryAttention: () => ({ headDim: 2, numQueryHeads: 2, numKeyValueHeads: 2, useGate: true }),
  GaussianDropout: () => ({ rate: 0.5 }),
  AlphaDropout: () => ({ rate: 0.5 }),
  SpatialDropout1D: () => ({ rate: 0.5 }),
  ActivityRegularization: () => ({ l1: 0.01, l2: 0.01 }),
  ReversibleEmbedding: () => ({ inputDim: 10, outputDim: 3, maskZero: true }),
  EinsumDense: () => ({ equation: '...b,bc->...c', outputShape: 2, biasAxes: 'c' }),
  PReLU: () => ({ sharedAxes: [1] }),
  // sequence shaping (fourteenth round)
  RepeatVector: () => ({ n: 2 }),
  Permute: () => ({ dims: [2, 1] }),
  Conv1DTranspose: () => ({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
  DepthwiseConv1D: () => ({ kernelSize: 2, depthMultiplier: 2 }),
  SeparableConv1D: () => ({ filters: 2, kernelSize: 2, padding: 'same' }),
  AdaptiveAveragePooling1D: () => ({ outputSize: 2 }),
  AdaptiveMaxPooling1D: () => ({ outputSize: 3 }),
  // categorical preprocessing (fifteenth round)
  CategoryEncoding: () => ({ numTokens: 4, outputMode: 'count' }),
  Discretization: () => ({ binBoundaries: [-1, 0, 1], outputMode: 'one_hot' }),
  ConvLSTM1D: () => ({ filters: 2, kernelSize: 2, returnSequences: true }),
  // lookup output modes, n-grams and hashing (sixteenth round)
  Hashing: () => ({ numBins: 5, maskValue: '', salt: [3, 4], outputMode: 'count' }),
};

function layerClasses(): [string, new (a: object) => Layer][] {
  return Object.entries(masque)
    .filter(([name, v]) => typeof v === 'function' && v.prototype instanceof Layer && !(v === masque.Model || v.prototype instanceof masque.Model) && name !== 'RNNLayer' && name !== 'RNNCell')
    .map(([name, v]) => [name, v as unknown as new (a: object) => Layer]);
}

function constructorCases(t: Tally, runs: number, seed: number): void {
  const classes = layerClasses();
  fc.assert(
    fc.property(fc.integer({ min: 0, max: classes.length - 1 }), fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('units', 'rate', 'axis', 'name', 'inputShape', 'activation', 'kernelInitializer', 'maskZero', 'returnSequences', 'poolSize', 'numHeads', 'layer', 'padding', 'value')), oddValue(), { maxKeys: 3 }), fc.boolean(), (k, extra, base) => {
      const [name, Cls] = classes[k]!;
      const args = { ...(base ? (VALID[name]?.() ?? {}) : {}), ...extra };
      outcome(t, () => `new ${name}(${show(args)})`, () => new Cls(args));
    }),
    { numRuns: runs, seed },
  );
  // Every option of every class, given an odd value.
  for (const [name, Cls] of classes) {
    const table = (Cls as unknown as { options: Record<string, unknown> | null }).options ?? {};
    for (const option of Object.keys(table)) {
      const cyclic: unknown[] = [1];
      cyclic.push(cyclic);
      for (const v of [null, NaN, -1, 'constructor', {}, [[1]], cyclic]) {
        const args = { ...(VALID[name]?.() ?? {}), [option]: v };
        outcome(t, () => `new ${name}(${show(args)})`, () => new Cls(args));
      }
    }
  }
}

/** A random tensor: rank 0-4, dims 0-5, a dtype, values with NaN and large numbers. */
function tensorSpecArb(): fc.Arbitrary<{ shape: number[]; dtype: 'float32' | 'int32' | 'bool' | 'string'; values: number[] }> {
  return fc.record({
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
    dtype: fc.constantFrom<'float32' | 'int32' | 'bool' | 'string'>('float32', 'float32', 'float32', 'int32', 'int32', 'bool', 'string'),
    values: fc.array(fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(NaN, Infinity, 0.5, 1e6)), { minLength: 1, maxLength: 8 }),
  });
}

function makeTensor(s: { shape: number[]; dtype: string; values: number[] }): tf.Tensor {
  const size = s.shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: size }, (_, i) => s.values[i % s.values.length]!);
  if (s.dtype === 'string') return tf.tensor(vals.map(String), s.shape, 'string');
  if (s.dtype === 'bool') return tf.tensor(vals.map((v) => v > 1), s.shape, 'bool');
  return tf.tensor(vals, s.shape, s.dtype as 'float32' | 'int32');
}

/** A layer of class `classes[k]` built from its valid options (null when the class needs more than VALID gives). */
function validLayer(classes: [string, new (a: object) => Layer][], k: number): [string, Layer | null] {
  const [name, Cls] = classes[k]!;
  try {
    return [name, new Cls(VALID[name]?.() ?? {})];
  } catch {
    return [name, null];
  }
}

function layerCallCases(t: Tally, runs: number, seed: number): void {
  const classes = layerClasses().filter(([name]) => name !== 'InputLayer');
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: classes.length - 1 }),
      fc.array(tensorSpecArb(), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      fc.option(tensorSpecArb(), { nil: null }),
      fc.boolean(),
      (k, specs, asList, maskSpec, training) => {
        const [name, layer] = validLayer(classes, k);
        if (layer === null) return;
        const made: tf.Tensor[] = [];
        try {
          const inputs = specs.map((s) => {
            const x = makeTensor(s);
            made.push(x);
            return x;
          });
          let mask: tf.Tensor | undefined;
          if (maskSpec !== null) {
            mask = makeTensor({ ...maskSpec, dtype: 'bool' });
            made.push(mask);
          }
          const x = asList || inputs.length > 1 ? inputs : inputs[0]!;
          const weightsBefore = layer.weights.length;
          outcome(
            t,
            () => `${name}.apply(${show(x)}, mask ${mask ? `[${mask.shape}]` : 'none'}, training ${training})`,
            () => layer.apply(x as tf.Tensor, mask === undefined ? { training } : { training, mask }),
            () => layer.weights.length - weightsBefore,
          );
        } finally {
          tf.dispose(made);
          layer.dispose();
        }
      },
    ),
    { numRuns: runs, seed },
  );
}

// ---- models ----

function smallModels(): masque.Model[] {
  const seq = new masque.Sequential([masque.Input({ shape: [null], dtype: 'int32' }), new masque.Embedding({ inputDim: 12, outputDim: 4, maskZero: true }), new masque.LSTM({ units: 3 }), new masque.Dense({ units: 2, activation: 'softmax' })]);
  seq.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const a = masque.Input({ shape: [null, 3] });
  const b = masque.Input({ shape: [null], dtype: 'int32' });
  const ea = new masque.Masking().apply(a) as masque.SymbolicTensor;
  const eb = new masque.Embedding({ inputDim: 9, outputDim: 3, maskZero: true }).apply(b) as masque.SymbolicTensor;
  const merged = new masque.Concatenate({ axis: 1 }).apply([ea, eb]);
  const two = new masque.Model({ inputs: [a, b], outputs: new masque.GlobalAveragePooling1D().apply(merged) });
  two.compile({ optimizer: 'sgd', loss: 'mse' });
  // A stateful LSTM: fixed batch size 2, states carried between calls.
  const si = masque.Input({ shape: [null, 3], batchSize: 2 });
  const stateful = new masque.Model({ inputs: si, outputs: new masque.Dense({ units: 2 }).apply(new masque.LSTM({ units: 3, stateful: true, returnSequences: true }).apply(new masque.Masking().apply(si))) });
  stateful.compile({ optimizer: 'adam', loss: 'mse' });
  return [seq, two, stateful];
}

async function modelCases(t: Tally, runs: number, seed: number): Promise<void> {
  const models = smallModels();
  // One good step each first: the optimizers' state (created by the first
  // update) is not a leak of the calls that follow.
  await models[0]!.fit({ sequences: [[1, 2], [3]], labels: [0, 1] }, { verbose: 0 });
  const x2 = [tf.ones([2, 3, 3]), tf.ones([2, 2], 'int32')];
  const y2 = tf.ones([2, 3]);
  await models[1]!.fit(x2, y2, { verbose: 0 });
  const [x3, y3] = [tf.ones([2, 3, 3]), tf.ones([2, 3, 2])];
  await models[2]!.fit(x3, y3, { verbose: 0, shuffle: false });
  tf.dispose([...x2, y2, x3, y3]);
  try {
    const data = fc.oneof(
      fc.array(fc.array(fc.oneof(fc.integer({ min: -2, max: 14 }), fc.constantFrom(NaN, Infinity, 1.5)), { minLength: 0, maxLength: 5 }), { minLength: 0, maxLength: 4 }),
      tensorSpecArb().map((s) => ({ tensor: s })),
      oddValue(),
    );
    await fc.assert(
      // epochs above 100 (1e9 among the odd values) are valid and run as long as asked: not drawn.
      fc.asyncProperty(fc.integer({ min: 0, max: models.length - 1 }), fc.array(data, { minLength: 1, maxLength: 2 }), data, fc.oneof(fc.constant({}), fc.record({ batchSize: oddValue(), epochs: oddValue().filter((v) => !(typeof v === 'number' && v > 100)), verbose: fc.constant(0 as const) }, { requiredKeys: ['verbose'] })), fc.constantFrom('predict', 'fit', 'evaluate', 'fitSequences'), async (m, xs, y, opts, what) => {
        const model = models[m]!;
        const made: tf.Tensor[] = [];
        const mk = (d: unknown): unknown => {
          if (d !== null && typeof d === 'object' && 'tensor' in (d as object)) {
            const x = makeTensor((d as { tensor: { shape: number[]; dtype: string; values: number[] } }).tensor);
            made.push(x);
            return x;
          }
          return d;
        };
        const x = xs.length === 1 ? mk(xs[0]) : xs.map(mk);
        const yv = mk(y);
        try {
          if (what === 'predict') outcome(t, () => `predict(${show(x)}, ${show(opts)})`, () => model.predict(x as tf.Tensor, opts as masque.PredictOptions));
          else if (what === 'fit') await outcomeAsync(t, () => `fit(${show(x)}, ${show(yv)}, ${show(opts)})`, () => model.fit(x as tf.Tensor, yv as tf.Tensor, { verbose: 0, ...(opts as object) }));
          else if (what === 'evaluate') await outcomeAsync(t, () => `evaluate(${show(x)}, ${show(yv)}, ${show(opts)})`, () => model.evaluate(x as tf.Tensor, yv as tf.Tensor, { verbose: 0, ...(opts as object) }));
          else await outcomeAsync(t, () => `fit({ sequences: ${show(xs[0])}, labels: ${show(y)} })`, () => model.fit({ sequences: xs[0] as number[][], labels: y as number[] }, { verbose: 0, ...(opts as object) }));
        } finally {
          tf.dispose(made);
        }
      }),
      { numRuns: runs, seed },
    );
  } finally {
    models.forEach((m) => m.dispose());
  }
}

// ---- Keras configs and .keras bytes ----

/** Replaces the value at a random path of `o` (deep copy) with `v`. */
function mutate(o: unknown, path: number[], v: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(o)) as unknown;
  let node = copy;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node as object);
    if (keys.length === 0) break;
    const key = keys[path[i]! % keys.length]!;
    if (i === path.length - 1 || (node as Record<string, unknown>)[key] === null || typeof (node as Record<string, unknown>)[key] !== 'object') {
      (node as Record<string, unknown>)[key] = v;
      break;
    }
    node = (node as Record<string, unknown>)[key];
  }
  return copy;
}

function configCases(t: Tally, runs: number, seed: number): void {
  const configs = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Record<string, unknown>)
    .filter((c) => c['kind'] === 'model')
    .map((c) => c['config'] as object);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: configs.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), oddValue(), (k, path, v) => {
      const cfg = mutate(configs[k], path, typeof v === 'function' || Array.isArray(v) && v.includes(v) ? null : v);
      outcome(t, () => `modelFromKerasConfig(case ${k} with ${path.join('.')} = ${show(v)})`, () => masque.modelFromKerasConfig(cfg as object));
    }),
    { numRuns: runs, seed },
  );
  outcome(t, () => 'modelFromKerasConfig("{not json")', () => masque.modelFromKerasConfig('{not json'));
  outcome(t, () => 'modelFromKerasConfig(null)', () => masque.modelFromKerasConfig(null as never));
}

const OPS_FIXTURES = fileURLToPath(new URL('../fixtures/keras-3.15.1-ops/', import.meta.url));

/**
 * Models of Keras operations (keras-3.15.1-ops) with one operation's entry
 * changed (its config, or its call's arguments: numbers, constants, indexing
 * keys), built under maskPolicy 'warn' and run on the case's inputs: what
 * fails must fail with a code, at build or at the call.
 */
function opsConfigCases(t: Tally, runs: number, seed: number): void {
  const cases = readdirSync(OPS_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => parseKerasJson(readFileSync(join(OPS_FIXTURES, f), 'utf8')) as Record<string, unknown>); // -Infinity, and 2.0 as Keras wrote them
  const entries = (c: Record<string, unknown>) => ((c['config'] as { config: { layers: Record<string, unknown>[] } }).config.layers).filter((l) => String(l['module']).startsWith('keras.src.ops'));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: cases.length - 1 }), fc.nat(), fc.boolean(), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), oddValue(), (k, e, inNode, path, v) => {
      const c = structuredClone(cases[k]) as Record<string, unknown>;
      const ops = entries(c);
      const entry = ops[e % ops.length]!;
      const value = typeof v === 'function' || (Array.isArray(v) && v.includes(v)) ? null : v;
      const key = inNode ? 'inbound_nodes' : 'config';
      entry[key] = mutate(entry[key], path, value);
      let model: masque.Model | null = null;
      outcome(t, () => `modelFromKerasConfig(${String(c['name'])} with ${String(entry['class_name'])} ${key} ${path.join('.')} = ${show(v)})`, () => (model = masque.modelFromKerasConfig(c['config'] as object, undefined, { maskPolicy: 'warn' })));
      if (model === null) return;
      const m = model as masque.Model;
      const xs = (c['inputs'] as { shape: number[]; dtype: string; data: number[] }[]).map((a) => tf.tensor(a.data.map(Number), a.shape, a.dtype as 'float32'));
      try {
        outcome(t, () => `predict(${String(c['name'])} with ${String(entry['class_name'])} ${key} ${path.join('.')} = ${show(v)})`, () => {
          const y = m.predict(xs.length === 1 ? xs[0]! : xs);
          disposeAll(y);
          return null;
        });
      } finally {
        tf.dispose(xs);
        m.dispose();
      }
    }),
    { numRuns: runs, seed },
  );
}

async function bytesCases(t: Tally, runs: number, seed: number): Promise<void> {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.keras')).map((f) => new Uint8Array(readFileSync(join(FIXTURES, f))));
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: files.length - 1 }), fc.constantFrom('truncate', 'flip', 'zero'), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 }), async (k, how, where, byte) => {
      const bytes = files[k]!.slice();
      const at = Math.floor(where * bytes.length);
      const damaged = how === 'truncate' ? bytes.slice(0, at) : how === 'flip' ? ((bytes[at] = bytes[at]! ^ (byte || 1)), bytes) : (bytes.fill(0, at, at + 64), bytes);
      await outcomeAsync(t, () => `loadModelFromBytes(${how} at ${at} of file ${k})`, () => masque.loadModelFromBytes(damaged));
    }),
    { numRuns: runs, seed },
  );
}

// ---- legacy HDF5 files, weights files and TensorFlow.js models ----

const H5_FIXTURES = fileURLToPath(new URL('../fixtures/keras-3.15.1-h5/', import.meta.url));
const TFJS_FIXTURES = fileURLToPath(new URL('../fixtures/tfjs-layers-4.22/', import.meta.url));

/** A tfjs model folder's artifacts (model.json's topology, specs, and its one shard). */
function tfjsArtifacts(folder: string): { modelTopology: unknown; weightSpecs: { name: string; shape: number[]; dtype: string }[]; weightData: ArrayBuffer } {
  const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { modelTopology: unknown; weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[] };
  const bin = readFileSync(join(folder, json.weightsManifest[0]!.paths[0]!));
  return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer };
}

async function legacyCases(t: Tally, runs: number, seed: number): Promise<void> {
  const h5 = readdirSync(H5_FIXTURES).filter((f) => f.endsWith('.h5'));
  const bytes = h5.map((f) => new Uint8Array(readFileSync(join(H5_FIXTURES, f))));
  // The model each weights file belongs to (its case's config), built for each run.
  const configOf = (f: string): object | null => {
    const base = f.replace(/(\.legacy-weights|\.weights)?\.h5$/, '');
    try {
      const c = JSON.parse(readFileSync(join(H5_FIXTURES, `${base}.json`), 'utf8')) as Record<string, unknown>;
      return (c['config'] as object | undefined) ?? null;
    } catch {
      return null;
    }
  };
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: h5.length - 1 }), fc.constantFrom('truncate', 'flip', 'zero'), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 }), async (k, how, where, byte) => {
      const b = bytes[k]!.slice();
      const at = Math.floor(where * b.length);
      const damaged = how === 'truncate' ? b.slice(0, at) : how === 'flip' ? ((b[at] = b[at]! ^ (byte || 1)), b) : (b.fill(0, at, at + 64), b);
      await outcomeAsync(t, () => `loadModelFromBytes(${how} at ${at} of ${h5[k]})`, () => masque.loadModelFromBytes(damaged));
      const config = configOf(h5[k]!);
      if (config === null) return;
      const model = masque.modelFromKerasConfig(config);
      try {
        const before = model.getWeights().map((w) => Array.from(w.dataSync()));
        let failed = false;
        await outcomeAsync(t, () => `loadWeightsFromBytes(${how} at ${at} of ${h5[k]})`, () => masque.loadWeightsFromBytes(model, damaged).catch((e) => ((failed = true), Promise.reject(e))));
        const after = model.getWeights().map((w) => Array.from(w.dataSync()));
        if (failed && JSON.stringify(after) !== JSON.stringify(before)) t.bad.push(`loadWeightsFromBytes(${how} at ${at} of ${h5[k]}): failed but changed the model's weights`);
      } finally {
        model.dispose();
      }
    }),
    { numRuns: runs, seed },
  );
  const folders = readdirSync(TFJS_FIXTURES).filter((f) => !f.includes('.')).map((f) => join(TFJS_FIXTURES, f));
  folders.push(...readdirSync(H5_FIXTURES).filter((f) => f.startsWith('keras2_') && !f.includes('.')).map((f) => join(H5_FIXTURES, f)));
  const arts = folders.map(tfjsArtifacts);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: arts.length - 1 }), fc.boolean(), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), oddValue(), async (k, specs, path, v) => {
      const a = arts[k]!;
      const value = typeof v === 'function' || (Array.isArray(v) && v.includes(v)) ? null : v;
      const art = specs ? { ...a, weightSpecs: mutate(a.weightSpecs, path, value) } : { ...a, modelTopology: mutate(a.modelTopology, path, value) };
      await outcomeAsync(t, () => `loadTfjsModel(${folders[k]} with ${specs ? 'weightSpecs' : 'modelTopology'} ${path.join('.')} = ${show(v)})`, () => masque.loadTfjsModel(art as never));
    }),
    { numRuns: runs, seed },
  );
  await outcomeAsync(t, () => 'loadTfjsModel(null)', () => masque.loadTfjsModel(null as never));
  await outcomeAsync(t, () => 'loadTfjsModel({ load: throws })', () => masque.loadTfjsModel({ load: () => Promise.reject(new Error('network down')) }));
  await outcomeAsync(t, () => "loadTfjsModel('/no/such/model.json')", () => masque.loadTfjsModel('/no/such/model.json'));
  await outcomeAsync(t, () => 'loadWeightsFromBytes(null model)', () => masque.loadWeightsFromBytes(null as never, bytes[0]!));
  await outcomeAsync(t, () => 'saveWeightsToBytes(null)', () => masque.saveWeightsToBytes(null as never));
}

/**
 * The rest of the public API with odd arguments: registries and
 * constructors of optimizers, losses, metrics and callbacks, compile,
 * setWeights, the data helpers, the text vectorizer, the global settings
 * (restored after each call), embeddingLookup, predictClasses, getLayer.
 */
function apiCases(t: Tally, runs: number, seed: number): void {
  const model = (): masque.Model => new masque.Sequential([masque.Input({ shape: [null], dtype: 'int32' }), new masque.Embedding({ inputDim: 6, outputDim: 3, maskZero: true }), new masque.LSTM({ units: 2 }), new masque.Dense({ units: 2 })]);
  /** Runs `fn` on a new model, disposed after. */
  const fresh = (fn: (f: masque.Model) => unknown): unknown => {
    const f = model();
    try {
      return fn(f);
    } finally {
      f.dispose();
    }
  };
  const m = model();
  const compiled = model();
  compiled.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  // One good step first: the optimizer's state (made by the first update) is not a leak of the calls that follow.
  const [gx, gy] = [tf.tensor2d([[1, 2]], undefined, 'int32'), tf.tensor1d([1], 'int32')];
  compiled.trainOnBatch(gx, gy);
  const table = tf.randomNormal([6, 3]);
  const statefulLstm = new masque.LSTM({ units: 2, stateful: true });
  tf.dispose(statefulLstm.apply(tf.ones([2, 3, 1])));
  const threads = masque.kernelThreads();
  const ctor = (C: unknown) => (a: unknown) => new (C as new (x: unknown) => unknown)(a);
  const calls: [string, (a: unknown, b: unknown) => unknown][] = [
    ['getOptimizer', (a) => masque.getOptimizer(a as never)],
    ['getLoss', (a) => masque.getLoss(a as never)],
    ['getMetric', (a) => masque.getMetric(a as never)],
    ...(['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Nadam', 'MeanSquaredError', 'MeanAbsoluteError', 'BinaryCrossentropy', 'CategoricalCrossentropy', 'SparseCategoricalCrossentropy', 'Huber', 'LogCosh',
      'Mean', 'Accuracy', 'BinaryAccuracy', 'CategoricalAccuracy', 'SparseCategoricalAccuracy', 'TopKCategoricalAccuracy', 'SparseTopKCategoricalAccuracy', 'Precision', 'Recall', 'AUC', 'FBetaScore', 'F1Score',
      'EarlyStopping', 'ModelCheckpoint', 'LearningRateScheduler', 'ReduceLROnPlateau', 'ProgressBar', 'TextVectorizer'] as const).map((n) => [`new ${n}`, ctor((masque as Record<string, unknown>)[n])] as [string, (a: unknown) => unknown]),
    ['compile', (a) => fresh((f) => f.compile(a as never))],
    ['compile({optimizer, loss})', (a, b) => fresh((f) => f.compile({ optimizer: a, loss: b } as never))],
    ['compile({loss, metrics})', (a, b) => fresh((f) => f.compile({ loss: 'mse', metrics: a, weightedMetrics: b } as never))],
    ['setWeights', (a) => m.setWeights(a as never)],
    ['setKerasWeights', (a) => masque.setKerasWeights(m, a as never)],
    ['getLayer', (a) => m.getLayer(a as never)],
    ['predictClasses', (a, b) => m.predictClasses(a as never, b as never)],
    ['trainOnBatch', (a, b) => compiled.trainOnBatch(a as never, b as never)],
    ['testOnBatch', (a, b) => compiled.testOnBatch(a as never, b as never)],
    ['testOnBatch(x, y, options)', (a) => compiled.testOnBatch(gx, gy, a as never)],
    ['trainOnBatch(x, y, options)', (a) => compiled.trainOnBatch(gx, gy, a as never)],
    ['planBatches', (a, b) => masque.planBatches(a as never, b as never)],
    ['padBatch', (a, b) => masque.padBatch(a as never, b as never)],
    ['TextVectorizer.encode', (a, b) => new masque.TextVectorizer(b as never).encode(a as never)],
    ['TextVectorizer.adapt', (a, b) => new masque.TextVectorizer(b as never).adapt(a as never)],
    ['embeddingLookup', (a, b) => masque.embeddingLookup(table, a as never, b as never)],
    ['ctcLoss', (a, b) => masque.ctcLoss(a as never, b as never)],
    ['ctcDecode', (a, b) => tf.dispose(masque.ctcDecode(a as never, b as never))],
    ['ctcDecode(beam_search)', (a, b) => tf.dispose(masque.ctcDecode(a as never, { strategy: 'beam_search', ...(b !== null && typeof b === 'object' && !Array.isArray(b) && !(b instanceof tf.Tensor) ? b : { beamWidth: b }) } as never))],
    ['computeLoss(ctc)', (a, b) => masque.computeLoss('ctc', a as never, b as never)],
    ['computeLoss(poisson)', (a, b) => masque.computeLoss('poisson', a as never, b as never)],
    ['computeLoss(cosine_similarity)', (a, b) => masque.computeLoss('cosine_similarity', a as never, b as never)],
    ['computeLoss(dice)', (a, b) => masque.computeLoss('dice', a as never, b as never)],
    ['computeLoss(circle)', (a, b) => masque.computeLoss('circle', a as never, b as never)],
    ['computeLoss(categorical_generalized_cross_entropy)', (a, b) => masque.computeLoss('categorical_generalized_cross_entropy', a as never, b as never)],
    ['Tversky.apply', (a, b) => new masque.Tversky({ axis: [1] }).apply(a as never, b as never)],
    ['LSTM(stateful).resetStates', (a) => statefulLstm.resetStates(a as never)],
    ['Discretization.adapt', (a, b) => new masque.Discretization({ numBins: 3 }).adapt(a as never, b as never)],
    ['StringLookup.adapt', (a) => new masque.StringLookup().adapt(a as never)],
    ['IntegerLookup.adapt', (a) => new masque.IntegerLookup().adapt(a as never)],
    ['StringLookup(tf_idf).adapt', (a) => new masque.StringLookup({ outputMode: 'tf_idf', maxTokens: 6, padToMaxTokens: true }).adapt(a as never)],
    ['StringLookup(tf_idf).setVocabulary', (a, b) => new masque.StringLookup({ outputMode: 'tf_idf' }).setVocabulary(a as never, b as never)],
    ['TextVectorization(tf_idf, ngrams).adapt', (a) => new masque.TextVectorization({ outputMode: 'tf_idf', ngrams: [1, 2] }).adapt(a as never)],
    ['StringLookup(count, hashed OOV).apply', (a) => tf.dispose(new masque.StringLookup({ vocabulary: ['1', '2'], numOovIndices: 3, salt: 5, outputMode: 'count' }).apply(a as never) as never)],
    ['IntegerLookup(one_hot, farmhash).apply', (a) => tf.dispose(new masque.IntegerLookup({ vocabulary: [1, 2], numOovIndices: 2, oovMethod: 'farmhash', outputMode: 'one_hot' }).apply(a as never) as never)],
    ['Hashing(multi_hot).apply', (a) => tf.dispose(new masque.Hashing({ numBins: 4, maskValue: 0, outputMode: 'multi_hot' }).apply(a as never) as never)],
    [
      'Normalization.adapt',
      (a, b) => {
        // adapt builds the layer (its mean, variance and count): freed with it.
        const n = new masque.Normalization();
        try {
          n.adapt(a as never, b as never);
        } finally {
          n.dispose();
        }
      },
    ],
    ['CategoryEncoding(count).apply', (a, b) => tf.dispose(new masque.CategoryEncoding({ numTokens: 3, outputMode: 'count' }).apply(a as never, { countWeights: b } as never) as never)],
    ['LSTM(stateful).apply', (a, b) => tf.dispose(statefulLstm.apply(a as never, b as never) as never)],
    ['setMaskPolicy', (a) => masque.setMaskPolicy(masque.setMaskPolicy(a as never))],
    ['setKernelThreads', (a) => masque.setKernelThreads(a as never)],
    ['setKernelSpin', (a) => masque.setKernelSpin(a as never)],
    ['setProjectionTables', (a) => masque.setProjectionTables(a as never)],
    ['setRelaxedSimd', (a) => masque.setRelaxedSimd(masque.setRelaxedSimd(a as never))],
  ];
  const arg = fc.oneof(oddValue(), tensorSpecArb().map((s) => ({ tensor: s })), fc.array(fc.array(fc.integer({ min: -2, max: 7 }), { maxLength: 4 }), { maxLength: 3 }));
  try {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: calls.length - 1 }), arg, arg, (k, a, b) => {
        const made: tf.Tensor[] = [];
        const mk = (d: unknown): unknown => {
          if (d === null || typeof d !== 'object' || !('tensor' in (d as object))) return d;
          const x = makeTensor((d as { tensor: { shape: number[]; dtype: string; values: number[] } }).tensor);
          made.push(x);
          return x;
        };
        const [name, fn] = calls[k]!;
        const before = m.weights.map((w) => w.variable.dataSync().slice());
        try {
          const [x, y] = [mk(a), mk(b)];
          outcome(t, () => `${name}(${show(a)}, ${show(b)})`, () => fn(x, y));
        } finally {
          tf.dispose(made);
        }
        // A refused setWeights loses nothing.
        const after = m.weights.map((w) => w.variable.dataSync());
        if (name.startsWith('set') && before.some((v, i) => v.length !== after[i]!.length)) t.bad.push(`${name}(${show(a)}): a weight changed size`);
      }),
      { numRuns: runs, seed },
    );
  } finally {
    // The settings go back to what the rest of the process runs with.
    masque.setKernelThreads(threads);
    masque.setKernelSpin();
    masque.setProjectionTables();
    tf.dispose([table, gx, gy]);
    m.dispose();
    compiled.dispose();
    statefulLstm.dispose();
  }
}

/**
 * Layer calls with odd call arguments (training, mask, initialState, key
 * of the wrong kind, or not an object), symbolic calls with odd inputs, and
 * models built from odd parts (Model's inputs and outputs, Sequential's
 * layers and add).
 */
function callArgsAndGraphCases(t: Tally, runs: number, seed: number): void {
  const classes = layerClasses().filter(([name]) => name !== 'InputLayer');
  const argsArb = fc.oneof(
    oddValue(),
    fc.record({ training: oddValue(), mask: oddValue(), initialState: oddValue(), key: oddValue(), value: oddValue(), returnAttentionScores: oddValue() }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: classes.length - 1 }), argsArb, fc.boolean(), (k, args, symbolic) => {
      const [name, layer] = validLayer(classes, k);
      if (layer === null) return;
      const x = symbolic ? masque.Input({ shape: [3, 4] }) : tf.ones([2, 3, 4]);
      try {
        const weightsBefore = layer.weights.length;
        outcome(t, () => `${name}.apply(${symbolic ? 'Input [null, 3, 4]' : '[2, 3, 4]'}, ${show(args)})`, () => layer.apply(x as tf.Tensor, args as never), () => layer.weights.length - weightsBefore);
      } finally {
        if (x instanceof tf.Tensor) x.dispose();
        layer.dispose();
      }
    }),
    { numRuns: runs, seed },
  );
  const part = fc.oneof(oddValue(), fc.constant('input'), fc.constant('output'), fc.constant('layer'));
  const make = (p: unknown): unknown => {
    if (p === 'input') return masque.Input({ shape: [3] });
    if (p === 'output') return new masque.Dense({ units: 2 }).apply(masque.Input({ shape: [3] }));
    if (p === 'layer') return new masque.Dense({ units: 2 });
    return p;
  };
  fc.assert(
    fc.property(fc.constantFrom('Model', 'Sequential', 'Sequential.add'), part, part, (what, a, b) => {
      const [pa, pb] = [make(a), make(b)];
      outcome(t, () => `${what}(${show(a)}, ${show(b)})`, () => {
        if (what === 'Model') return new masque.Model({ inputs: pa as never, outputs: pb as never });
        if (what === 'Sequential') return new masque.Sequential(pa as never);
        const s = new masque.Sequential([masque.Input({ shape: [3] })]);
        try {
          s.add(pa as never);
          s.add(pb as never);
          return s;
        } catch (e) {
          s.dispose();
          throw e;
        }
      }, () => 0);
      for (const p of [pa, pb]) if (p instanceof Layer) p.dispose();
    }),
    { numRuns: runs, seed },
  );
}

/** Runs every part with `runs` random cases each. */
export async function runBadInputSuite(runs: number, seed = 1): Promise<Tally> {
  const t = newTally();
  const restore = masque.setWarningHandler(() => {});
  try {
    // MASQUE_BAD_INPUT_VERBOSE=1 prints each part's time, =2 also each asynchronous call before it runs (to find one that hangs).
    const part = async (name: string, fn: () => unknown): Promise<void> => {
      const t0 = Date.now();
      if (process.env['MASQUE_BAD_INPUT_VERBOSE']) console.error(`part ${name}...`);
      await fn();
      if (process.env['MASQUE_BAD_INPUT_VERBOSE']) console.error(`part ${name}: ${Date.now() - t0} ms`);
    };
    const quarter = Math.max(10, Math.floor(runs / 4));
    await part('padSequences', () => padSequencesCases(t, runs, seed));
    await part('constructors', () => constructorCases(t, runs, seed));
    await part('layer calls', () => layerCallCases(t, runs, seed));
    await part('models', () => modelCases(t, quarter, seed));
    await part('configs', () => configCases(t, runs, seed));
    await part('operations', () => opsConfigCases(t, quarter, seed));
    await part('.keras bytes', () => bytesCases(t, quarter, seed));
    await part('legacy files', () => legacyCases(t, quarter, seed));
    await part('api', () => apiCases(t, runs, seed));
    await part('call args and graphs', () => callArgsAndGraphCases(t, runs, seed));
  } finally {
    masque.setWarningHandler(restore);
  }
  return t;
}
