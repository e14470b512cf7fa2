/**
 * npm run bench: Masque against @tensorflow/tfjs-layers 4.22 in one process,
 * both on the wasm backend, on identical data and initial weights.
 *
 * For each config BxTxFxU (batch, padded length, features, LSTM units) and
 * padding side: real tokens/s of inference (predict) and of one training
 * step (trainOnBatch, Adam, binary cross-entropy) for Masking -> LSTM ->
 * Dense and Embedding(maskZero) -> LSTM -> Dense; Masque's time on the batch
 * padded to 4x its longest row divided by its time padded to the longest
 * row, for the models and for the LSTM layer alone (train = its weight
 * gradients); peak memory; and, once, memory over many training steps. Prints
 * tables and writes bench/results.json. A benchmark, not a test.
 *
 *   npm run bench -- [--configs=32x200x64x64,64x100x128x128] [--paddings=post,pre]
 *                    [--budget=2] [--warmup=1] [--mem-steps=1000] [--no-peer]
 *                    [--median=40] [--sigma=0.8] [--vocab=2000] [--seed=1] [--json=bench/results.json]
 *                    [--threads=N]   (Masque's kernel threads; default: the library's default)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { tf, ready, LSTM, setKernelThreads, kernelThreads } from '../src/index.js';
import { lengthStats, makeLengths, makeRows, mulberry32, padMask, padRows, type Padding, type Rows } from '../bench/rnn_data.js';
import { buildMasque, buildPeer, peerEmbeddingTrainAlone, peerLayers, type ModelKind, type ModelShape } from '../bench/rnn_models.js';
import { peak, sampleMemory, timeInterleaved, timeLoop, type Timing } from '../bench/rnn_timing.js';
import { memoryRun, type MemoryReport } from '../bench/rnn_memory.js';
import { printTables, type Row } from '../bench/rnn_report.js';

interface Options {
  configs: { b: number; t: number; f: number; u: number; name: string }[];
  paddings: Padding[];
  budget: number;
  warmup: number;
  memSteps: number;
  peer: boolean;
  median: number;
  sigma: number;
  vocab: number;
  seed: number;
  json: string;
  threads: number | null;
}

function parseArgs(argv: string[]): Options {
  const o: Record<string, string> = {
    configs: '32x200x64x64,64x100x128x128', paddings: 'post,pre', budget: '2', warmup: '1', 'mem-steps': '1000',
    median: '40', sigma: '0.8', vocab: '2000', seed: '1', json: 'bench/results/latest.json', peer: 'true', threads: '',
  };
  for (const a of argv) {
    const m = /^--(no-)?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[2]! in o)) throw new Error(`bench: unknown argument ${a}`);
    o[m[2]!] = m[1] ? 'false' : (m[3] ?? 'true');
  }
  const configs = o['configs']!.split(',').map((s) => {
    const [b, t, f, u] = s.split('x').map(Number);
    if (![b, t, f, u].every((v) => Number.isInteger(v) && v! > 0)) throw new Error(`bench: bad config ${s} (expected BxTxFxU)`);
    return { b: b!, t: t!, f: f!, u: u!, name: s };
  });
  const paddings = o['paddings']!.split(',') as Padding[];
  if (paddings.some((p) => p !== 'post' && p !== 'pre')) throw new Error('bench: --paddings takes post and/or pre');
  return {
    configs, paddings, budget: Number(o['budget']), warmup: Number(o['warmup']), memSteps: Number(o['mem-steps']), peer: o['peer'] === 'true',
    median: Number(o['median']), sigma: Number(o['sigma']), vocab: Number(o['vocab']), seed: Number(o['seed']), json: o['json']!,
    threads: o['threads'] === '' ? null : Number(o['threads']),
  };
}

/** Tensors of one padded batch; dispose with `free`. */
function tensors(rows: Rows, t: number, padding: Padding) {
  const b = rows.lengths.length;
  const { x, ids } = padRows(rows, t, padding);
  const out = { x: tf.tensor3d(x, [b, t, rows.features]), ids: tf.tensor2d(ids, [b, t], 'int32'), y: tf.tensor2d(rows.y, [b, 1]) };
  return { ...out, free: () => tf.dispose([out.x, out.ids, out.y]) };
}

async function predictOnce(predict: (x: tf.Tensor) => tf.Tensor | tf.Tensor[], x: tf.Tensor): Promise<void> {
  const y = predict(x) as tf.Tensor;
  await y.data();
  y.dispose();
}

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  const backend = await ready();
  if (backend !== 'wasm') throw new Error(`bench: the wasm backend did not initialise (got ${backend})`);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const cores = availableParallelism();
  if (opt.threads !== null) setKernelThreads(opt.threads);
  const machine = { node: process.version, cores, cpu: cpus()[0]?.model ?? '?', backend, simd: Boolean(simd), loadAverageAtStart: loadavg(), masqueThreads: kernelThreads() };
  const peerVersion = opt.peer ? peerLayers().version_layers : null;
  console.log(`# Masque vs @tensorflow/tfjs-layers ${peerVersion ?? '(skipped)'}; wasm (simd ${simd}); node ${process.version}; ${cores} cores (${machine.cpu})`);
  console.log(`# lengths log-normal median ${opt.median} sigma ${opt.sigma}, clamped to [1, T]; budget ${opt.budget} s and at least 3 iterations per measurement (median)`);
  console.log(`# load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}: rates use wall-clock time; Masque's recurrent kernel runs on ${machine.masqueThreads} thread(s), tfjs-layers on 1; CPU time (all threads) is also recorded`);

  // Memory first, before the peer has grown the shared wasm heap: Masque alone over many steps.
  let memory: MemoryReport | null = null;
  if (opt.memSteps > 0) {
    const cfg = opt.configs[0]!;
    console.log(`# memory: ${opt.memSteps} Masque training steps + predicts on ${cfg.name} post (Masking -> LSTM), before anything else runs`);
    memory = await memoryRun(cfg, opt, opt.memSteps);
    console.log(`#   ${JSON.stringify(memory)}`);
  }

  const peerEmbeddingAlone = opt.peer ? await peerEmbeddingTrainAlone() : null;
  if (opt.peer) console.log(`# tfjs-layers alone, Embedding training on wasm: ${peerEmbeddingAlone === null ? 'runs' : `fails: ${peerEmbeddingAlone}`} (below it uses Masque's wasm UnsortedSegmentSum kernel, shared through tfjs's kernel registry)`);

  const rows: Row[] = [];
  const record = (r: Row) => {
    rows.push(r);
    const what = `${r.lib} ${r.config} ${r.padding} ${r.model}-${r.phase}${r.paddedTo ? ` T=${r.paddedTo}` : ''}`;
    console.log(r.error ? `#   ${what}: FAILED ${r.error}` : `#   ${what}: ${r.msMedian!.toFixed(1)} ms wall (${r.cpuMsMedian!.toFixed(1)} CPU), ${Math.round(r.realTokPerS!)} real tok/s (x${r.iters})`);
  };
  const rowOf = (base: Omit<Row, 'msMedian'>, t: Timing): Row => {
    const mem = sampleMemory();
    return { ...base, msMedian: t.msMedian, cpuMsMedian: t.cpuMsMedian, iters: t.iters, realTokPerS: base.realTokens / (t.msMedian / 1000), cpuTokPerS: base.realTokens / (t.cpuMsMedian / 1000), tensorsBefore: t.tensorsBefore, tensorsAfter: t.tensorsAfter, rssMiB: mem.rssMiB, arrayBuffersMiB: mem.arrayBuffersMiB };
  };
  const time = async (base: Omit<Row, 'msMedian'>, fn: () => unknown): Promise<Timing | null> => {
    const tensors0 = tf.memory().numTensors;
    try {
      const t = await timeLoop(fn, opt.warmup, opt.budget, 3);
      record(rowOf(base, t));
      return t;
    } catch (e) {
      // A call that throws part-way (tfjs-layers' Embedding gradient on wasm) leaves its tensors behind.
      record({ ...base, error: String((e as Error).message ?? e).split('\n')[0], tensorsLeftByFailure: tf.memory().numTensors - tensors0 });
      return null;
    }
  };
  /** Padding sensitivity: the batch padded to T and to 4T, timed in turns (their ratio is the result). */
  const timePair = async (bases: Omit<Row, 'msMedian'>[], fns: (() => unknown)[]): Promise<void> => {
    const ts = await timeInterleaved(fns, opt.warmup, 2 * opt.budget, 3);
    ts.forEach((t, i) => record(rowOf(bases[i]!, t)));
  };

  const agreement: { config: string; padding: string; model: string; maxAbsDiff: number }[] = [];
  for (const cfg of opt.configs) {
    for (const padding of opt.paddings) {
      const rng = mulberry32(opt.seed + cfg.b * 7919 + cfg.t);
      const lengths = makeLengths(rng, cfg.b, cfg.t, opt.median, opt.sigma);
      const data = makeRows(rng, lengths, cfg.f, opt.vocab);
      const st = lengthStats(lengths, cfg.t);
      console.log(`# ${cfg.name} ${padding}: lengths min ${st.min} median ${st.median} p90 ${st.p90} max ${st.max}; ${st.real} real of ${st.padded} padded tokens (fill ${st.fill.toFixed(3)})`);
      const full = tensors(data, cfg.t, padding);
      const shape: ModelShape = { t: cfg.t, f: cfg.f, u: cfg.u, vocab: opt.vocab };
      for (const kind of ['masking', 'embedding'] as ModelKind[]) {
        const x = kind === 'masking' ? full.x : full.ids;
        const common = { config: cfg.name, padding, model: kind, realTokens: st.real };
        // The peer's initial weights go into both models.
        const peerModel = buildPeer(kind, shape);
        const weights = peerModel.getWeights();
        const model = buildMasque(kind, shape, weights); // (tfjs-layers' getWeights returns its live variables: not disposed)
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(peerModel.predict(x), model.predict(x) as tf.Tensor))).dataSync()[0]!);
        agreement.push({ config: cfg.name, padding, model: kind, maxAbsDiff: diff });
        if (opt.peer) {
          await time({ ...common, lib: 'tfjs-layers', phase: 'infer' }, () => predictOnce((t) => peerModel.predict(t), x));
          await time({ ...common, lib: 'tfjs-layers', phase: 'train' }, () => peerModel.trainOnBatch(x, full.y));
        }
        await time({ ...common, lib: 'masque', phase: 'infer' }, () => predictOnce((t) => model.predict(t), x));
        await time({ ...common, lib: 'masque', phase: 'train' }, () => model.trainOnBatch(x, full.y));
        // Padding sensitivity: the same rows padded to their longest length and to 4x that.
        const padded = [st.max, 4 * st.max].map((t) => ({ t, p: tensors(data, t, padding) }));
        const input = (q: (typeof padded)[number]) => (kind === 'masking' ? q.p.x : q.p.ids);
        const bases = (phase: 'infer' | 'train') => padded.map((q) => ({ ...common, lib: 'masque' as const, phase, paddedTo: q.t }));
        await timePair(bases('infer'), padded.map((q) => () => predictOnce((u) => model.predict(u), input(q))));
        await timePair(bases('train'), padded.map((q) => () => model.trainOnBatch(input(q), q.p.y)));
        padded.forEach((q) => q.p.free());
        peerModel.dispose();
        model.dispose();
      }
      // The recurrent layer alone (LSTM on the padded features with their mask): what the fused op costs.
      const lstm = new LSTM({ units: cfg.u });
      const layerInputs = [st.max, 4 * st.max].map((t) => ({ t, p: tensors(data, t, padding), mask: tf.tensor2d(padMask(lengths, t, padding), [cfg.b, t], 'bool') }));
      const layerBases = (phase: 'infer' | 'train') => layerInputs.map((q) => ({ config: cfg.name, padding, model: 'lstm-layer', realTokens: st.real, paddedTo: q.t, lib: 'masque' as const, phase }));
      await timePair(layerBases('infer'), layerInputs.map((q) => () => tf.tidy(() => (lstm.apply(q.p.x, { mask: q.mask }) as tf.Tensor).dataSync())));
      const vars = () => lstm.weights.map((w) => w.variable);
      await timePair(layerBases('train'), layerInputs.map((q) => () => {
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(lstm.apply(q.p.x, { mask: q.mask }) as tf.Tensor) as tf.Scalar), vars());
        tf.dispose([value, ...Object.values(grads)]);
      }));
      layerInputs.forEach((q) => {
        tf.dispose(q.mask);
        q.p.free();
      });
      lstm.dispose();
      full.free();
    }
  }

  const summary = printTables(rows, agreement, memory, peak, machine, peerEmbeddingAlone);
  if (opt.json) {
    mkdirSync(dirname(opt.json), { recursive: true });
    writeFileSync(opt.json, `${JSON.stringify({ date: new Date().toISOString(), machine, peer: peerVersion, peerEmbeddingTrainAloneError: peerEmbeddingAlone, options: { ...opt, configs: opt.configs.map((c) => c.name) }, summary, agreement, memory, peak, rows }, null, 2)}\n`);
    console.log(`\n# wrote ${opt.json}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
