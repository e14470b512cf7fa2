/**
 * npm run bench:tagger: the Brown part-of-speech tagger, Masque against
 * PyTorch (bench/tagger_torch.py), same model, same batches, one run.
 *
 * Model: Embedding(V, 64, padding id 0 / maskZero) -> bidirectional LSTM
 * (64 units per direction) -> Linear/Dense(132) at every step; Adam (lr
 * 1e-3); crossentropy over the valid steps. Training batches: Masque's
 * `planBatches` (batch 32, shuffled, bucketed by length in pools of 50
 * batches), written to a file that the PyTorch script reads, so both train
 * on exactly the same batches in the same order, each padded to its own
 * longest sentence inside the timed loop (Masque: padSequences +
 * trainOnBatch; PyTorch: pad_sequence + pack_padded_sequence, forward,
 * backward, step). The first `--warmup` batches are trained untimed by both.
 * Inference: the held-out sentences sorted by length, batches of 256,
 * forward + argmax + readback (median of 3 passes; Masque: predictClasses,
 * the argmax of the logits as PyTorch's). PyTorch runs with 1 and
 * with 2 threads (`--torch-threads`); ratios are against its faster setting.
 * Also: the fused BiLSTM layer alone (GFLOP/s, and the fraction of the
 * kernel's own matrix-product peak on this machine's cores).
 *
 * `--model transformer`: instead of the BiLSTM, one post-norm transformer
 * encoder block (bench/tagger_masque.ts buildTransformerTagger: a functional
 * model, Embedding(maskZero) -> MultiHeadAttention(2 heads, keyDim 32) + Add
 * -> LayerNormalization -> Dense(128, relu) -> Dense(64) + Add ->
 * LayerNormalization -> Dense(132, softmax)) against PyTorch's
 * nn.TransformerEncoderLayer(64, 2, 128, dropout 0, batch_first) with
 * src_key_padding_mask (nested-tensor fast path in eval + no_grad); no
 * positional encoding on either side; same batches, same protocol; the
 * BiLSTM kernel table is skipped.
 *
 * `--epochs N` (default 2): each round trains N epochs over the same batches
 * (both libraries, each epoch timed). The first table's rates and ratios are
 * those of the first epoch (after the warm-up batches); a second table gives
 * the later epochs' rates, once the one-time costs of a fresh process are
 * paid: for Masque, V8 optimizing its JavaScript over the first 100-150
 * steps and first touches of new memory; for PyTorch, above all page faults
 * (glibc's malloc maps and unmaps large tensors until its thresholds adapt:
 * 866k faults in the first 8,000-sentence epoch here, 319 in the second,
 * at about 11.5 us each on this VM). See docs/performance.md.
 *
 * `--rounds N`: the whole comparison N times in turns (Masque, then PyTorch
 * at each thread setting, then Masque again, ...), each round with a fresh
 * model trained on the same batches; the tables give each library's median
 * over the rounds and every round's ratios, so that a change in the
 * machine's load during the run reaches both sides.
 *
 *   npm run bench:tagger -- [--model bilstm|transformer] [--train-limit 8000] [--warmup 10] [--torch-threads 1,2] [--no-torch]
 *                           [--threads N] [--rounds 1] [--epochs 2] [--no-relaxed-simd] [--json bench/results/tagger.json]
 *
 * Masque's kernel uses its relaxed-SIMD build (fused multiply-adds in its
 * matrix products) where the engine has relaxed SIMD; on Node 20 this script
 * turns V8's --experimental-wasm-relaxed-simd on for its process
 * (demo/relaxed_simd.ts). `--no-relaxed-simd` measures the plain build.
 *
 * Without a working `/usr/bin/python3 -c 'import torch'` it says so and
 * measures Masque alone. A benchmark, not a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ready, tf, padSequences, planBatches, setKernelThreads, kernelThreads, relaxedSimd, Bidirectional, LSTM } from '../src/index.js';
import { loadTagger } from '../demo/tagger/brown.js';
import { kernelBuildLabel, useRelaxedSimd } from '../demo/relaxed_simd.js';
import { buildTagger, buildTransformerTagger, inferPass, sortedBatches, BATCH, INFER_BATCH } from '../bench/tagger_masque.js';
import { rnnKernel, KernelArena } from '../src/ops/rnn/kernel.js';

interface Opts {
  trainLimit: number;
  warmup: number;
  torchThreads: number[];
  torch: boolean;
  threads: number | null;
  json: string;
  seed: number;
  model: 'bilstm' | 'transformer';
  rounds: number;
  epochs: number;
  relaxedSimd: boolean;
}

function parseArgs(argv: string[]): Opts {
  const o: Record<string, string> = { 'train-limit': '8000', warmup: '10', 'torch-threads': '1,2', torch: 'true', threads: '', json: '', seed: '1234', model: 'bilstm', rounds: '1', epochs: '2', 'relaxed-simd': 'true' };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m || !(m[2]! in o)) throw new Error(`bench:tagger: unknown argument ${argv[i]} (known: ${Object.keys(o).map((k) => `--${k}`).join(', ')})`);
    o[m[2]!] = m[1] ? 'false' : (m[3] ?? (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[++i]! : 'true'));
  }
  if (o['model'] !== 'bilstm' && o['model'] !== 'transformer') throw new Error(`bench:tagger: --model must be bilstm or transformer; received ${o['model']}`);
  if (!Number.isInteger(Number(o['rounds'])) || Number(o['rounds']) < 1) throw new Error(`bench:tagger: --rounds must be a whole number >= 1; received ${o['rounds']}`);
  if (!Number.isInteger(Number(o['epochs'])) || Number(o['epochs']) < 1) throw new Error(`bench:tagger: --epochs must be a whole number >= 1; received ${o['epochs']}`);
  if (o['json'] === '') o['json'] = o['model'] === 'transformer' ? 'bench/results/tagger_transformer.json' : 'bench/results/tagger.json';
  return {
    trainLimit: Number(o['train-limit']),
    warmup: Number(o['warmup']),
    torchThreads: o['torch-threads']!.split(',').map(Number),
    torch: o['torch'] === 'true',
    threads: o['threads'] === '' ? null : Number(o['threads']),
    json: o['json']!,
    seed: Number(o['seed']),
    model: o['model'] === 'transformer' ? 'transformer' : 'bilstm',
    rounds: Number(o['rounds']),
    epochs: Number(o['epochs']),
    relaxedSimd: o['relaxed-simd'] !== 'false',
  };
}

export interface RunResult {
  framework: string;
  threads: number;
  trainTokens: number;
  epochSeconds: number[];
  epochCpuSeconds: number[];
  /** Real tokens per second of the first epoch. */
  trainTokensPerSec: number;
  /** Of the epochs after the first (NaN with one epoch). */
  laterTokensPerSec: number;
  inferTokensPerSec: number;
  inferCpuSeconds: number;
  heldOutAccuracy: number;
  loadAverage: number[];
}

/** Real tokens per second over the epochs after the first (NaN when there is one). */
function laterRate(tokens: number, epochSeconds: number[]): number {
  const later = epochSeconds.slice(1);
  return later.length === 0 ? NaN : (tokens * later.length) / later.reduce((a, b) => a + b, 0);
}

function laterNote(r: RunResult): string {
  return Number.isNaN(r.laterTokensPerSec) ? '' : `, later epochs ${Math.round(r.laterTokensPerSec)} tok/s`;
}

function cpuSec(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** The median of runs of one library (each field's median; the epoch and inference times with them). */
function medianRun(runs: RunResult[]): RunResult {
  const med = (f: (r: RunResult) => number) => {
    const v = runs.map(f).sort((a, b) => a - b);
    return v.length % 2 === 1 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  return {
    ...runs[0]!,
    epochSeconds: [med((r) => r.epochSeconds[0]!)],
    epochCpuSeconds: [med((r) => r.epochCpuSeconds[0]!)],
    trainTokensPerSec: med((r) => r.trainTokensPerSec),
    laterTokensPerSec: med((r) => r.laterTokensPerSec),
    inferTokensPerSec: med((r) => r.inferTokensPerSec),
    inferCpuSeconds: med((r) => r.inferCpuSeconds),
    heldOutAccuracy: med((r) => r.heldOutAccuracy),
    loadAverage: [runs[0]!.loadAverage[0]!, runs[runs.length - 1]!.loadAverage[1]!],
  };
}

/** The torch check: null when `/usr/bin/python3 -c 'import torch'` works, else why not. */
function torchMissing(): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return `/usr/bin/python3 could not run (${r.error.message})`;
  if (r.status !== 0) return `/usr/bin/python3 -c 'import torch' failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  return null;
}

/** Floating-point operations per real token: [inference, training] (the BiLSTM's matrix products and the output layer; training adds the backward products, twice the forward). */
function flopsPerToken(e: number, u: number, c: number): { lstmInfer: number; infer: number; train: number } {
  const lstm = 2 * 2 * 4 * u * (e + u); // two directions, x W and h R
  const dense = 2 * 2 * u * c;
  return { lstmInfer: lstm, infer: lstm + dense, train: 3 * (lstm + dense) };
}

/** The recurrent kernel's register-blocked matrix product on in-cache data, one core: the best GFLOP/s of many calls. */
function gemmPeak(): number {
  const k = rnnKernel()!;
  const n = 64, kk = 64, m = 256;
  const a = new KernelArena(k);
  const pa = a.take(n * kk * 4), pb = a.take(kk * m * 4), pc = a.take(n * m * 4);
  const v = a.commit();
  for (let i = 0; i < n * kk; i++) v.f32[(pa >> 2) + i] = Math.sin(i);
  for (let i = 0; i < kk * m; i++) v.f32[(pb >> 2) + i] = Math.cos(i);
  let best = Infinity;
  const reps = 200;
  for (let round = 0; round < 30; round++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) k.gemm(pa, kk, 1, pb, m, pc, m, n, kk, m, 0);
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return (2 * n * kk * m) / (best * 1e6);
}

/** The Bidirectional(LSTM) layer alone on a batch of real lengths: GFLOP/s of inference and of forward + backward. */
function bilstmRate(lengths: number[], e: number, u: number): { infer: number; train: number } {
  const b = lengths.length, t = Math.max(...lengths);
  const layer = new Bidirectional({ layer: new LSTM({ units: u, returnSequences: true }) });
  const x = tf.randomNormal([b, t, e]);
  const mask = tf.tensor2d(lengths.flatMap((l) => Array.from({ length: t }, (_, i) => i < l)), [b, t], 'bool');
  const tokens = lengths.reduce((s, l) => s + l, 0);
  const best = (f: () => void) => {
    for (let i = 0; i < 3; i++) f();
    let m = Infinity;
    const end = performance.now() + 1500;
    for (let i = 0; i < 5 || performance.now() < end; i++) {
      const t0 = performance.now();
      f();
      m = Math.min(m, performance.now() - t0);
    }
    return m;
  };
  const inferMs = best(() => tf.tidy(() => void (layer.apply(x, { mask }) as tf.Tensor).dataSync()));
  const vars = () => layer.weights.map((w) => w.variable);
  const trainMs = best(() => {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(layer.apply(x, { mask }) as tf.Tensor) as tf.Scalar), vars());
    tf.dispose([value, ...Object.values(grads)]);
  });
  const f = 2 * 2 * 4 * u * (e + u) * tokens;
  tf.dispose([x, mask]);
  layer.dispose();
  return { infer: f / (inferMs * 1e6), train: (3 * f) / (trainMs * 1e6) };
}

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  useRelaxedSimd(opt.relaxedSimd);
  await ready();
  if (opt.threads !== null) setKernelThreads(opt.threads);
  const machine = { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, node: process.version, masqueThreads: kernelThreads(), relaxedSimd: relaxedSimd() };
  const data = loadTagger({ trainLimit: opt.trainLimit });
  const { trainTokens, testTokens } = data.counts;
  const lengths = data.train.ids.map((s) => s.length);
  const plan = planBatches(lengths, { batchSize: BATCH, shuffle: true, bucketing: true, seed: opt.seed });
  const padded = plan.reduce((a, rows) => a + rows.length * Math.max(...Array.from(rows, (i) => lengths[i]!)), 0);
  console.log(`# Brown tagger, model ${opt.model === 'transformer' ? 'transformer encoder (1 post-norm block, 2 heads x 32, FFN 128, no positional encoding)' : 'BiLSTM'}, ${data.counts.trainSentences} training sentences (${trainTokens} real tokens in ${plan.length} batches of ${BATCH}, ${(trainTokens / padded).toFixed(3)} of the padded cells real), ${data.counts.testSentences} held out (${testTokens} tokens)`);
  console.log(`# machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}; Masque's recurrent kernel on ${machine.masqueThreads} thread(s), ${kernelBuildLabel()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const testBatches = sortedBatches(data.test.ids, INFER_BATCH);

  // ---- Masque: the plan's batches through trainOnBatch (a fresh model each round).
  const runMasque = (round: number): RunResult => {
    const model = opt.model === 'transformer' ? buildTransformerTagger(data.words.length, data.tags.length, opt.seed) : buildTagger(data.words.length, data.tags.length, opt.seed, false);
    const batch = (rows: Int32Array) => {
      const ids = Array.from(rows, (i) => data.train.ids[i]!);
      const longest = Math.max(...ids.map((s) => s.length));
      return { x: padSequences(ids, { maxlen: longest, padding: 'post' }), y: padSequences(Array.from(rows, (i) => data.train.labels[i]!), { maxlen: longest, padding: 'post', dtype: 'float32' }) };
    };
    const step = (rows: Int32Array) => {
      const { x, y } = batch(rows);
      model.trainOnBatch(x, y);
      tf.dispose([x, y]);
    };
    for (let k = 0; k < Math.min(opt.warmup, plan.length); k++) step(plan[k]!);
    const loadBefore = loadavg()[0]!;
    const epochSeconds: number[] = [];
    const epochCpu: number[] = [];
    for (let e = 0; e < opt.epochs; e++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (const rows of plan) step(rows);
      epochSeconds.push((performance.now() - t0) / 1000);
      epochCpu.push(cpuSec(c0));
    }
    const passes = [0, 1, 2, 3].map(() => inferPass(model, data, testBatches)).slice(1);
    const mid = passes.map((p) => p.seconds).sort((a, b) => a - b)[1]!;
    const r: RunResult = {
      framework: 'masque',
      threads: kernelThreads(),
      trainTokens,
      epochSeconds,
      epochCpuSeconds: epochCpu,
      trainTokensPerSec: trainTokens / epochSeconds[0]!,
      laterTokensPerSec: laterRate(trainTokens, epochSeconds),
      inferTokensPerSec: testTokens / mid,
      inferCpuSeconds: passes.map((p) => p.cpuSeconds).sort((a, b) => a - b)[1]!,
      heldOutAccuracy: passes[0]!.correct / passes[0]!.total,
      loadAverage: [loadBefore, loadavg()[0]!],
    };
    model.dispose();
    console.log(`#   round ${round + 1}, masque: train ${Math.round(r.trainTokensPerSec)} tok/s (${epochSeconds[0]!.toFixed(1)} s, ${epochCpu[0]!.toFixed(1)} CPU s)${laterNote(r)}, infer ${Math.round(r.inferTokensPerSec)} tok/s, acc ${r.heldOutAccuracy.toFixed(4)}`);
    return r;
  };

  // ---- PyTorch on the same batches.
  const missing = opt.torch ? torchMissing() : 'skipped (--no-torch)';
  if (missing !== null) console.log(`# PyTorch: NOT MEASURED: ${missing}. Masque alone below; no ratios.`);
  const dir = mkdtempSync(join(tmpdir(), 'masque-tagger-'));
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan.map((rows) => Array.from(rows))));
  const runTorch = (round: number, th: number): RunResult | null => {
    const r = spawnSync('/usr/bin/python3', ['bench/tagger_torch.py', '--plan', planFile, '--train-limit', String(opt.trainLimit), '--threads', String(th), '--warmup', String(opt.warmup), '--seed', String(opt.seed), '--model', opt.model, '--epochs', String(opt.epochs), '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`# round ${round + 1}, PyTorch (${th} thread(s)) failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
      return null;
    }
    const j = JSON.parse(line) as RunResult & { version: string; blas?: string[] };
    if (round === 0 && j.blas !== undefined) {
      console.log(`#   PyTorch's BLAS: ${j.blas.length > 0 ? j.blas.join(', ') : 'none found in its memory map'}`);
      if (j.blas.some((p) => p.includes('/blas/libblas'))) {
        console.log("#   warning: that is the reference BLAS (no optimized one installed), which makes PyTorch several times slower than it can be; `apt-get install libopenblas0-pthread` gives it OpenBLAS");
      }
    }
    // The script's own rate averages its epochs: the first epoch's here, the later ones apart, as for Masque.
    j.trainTokensPerSec = j.trainTokens / j.epochSeconds[0]!;
    j.laterTokensPerSec = laterRate(j.trainTokens, j.epochSeconds);
    console.log(`#   round ${round + 1}, pytorch, ${th} thread(s): train ${Math.round(j.trainTokensPerSec)} tok/s (${j.epochSeconds[0]!.toFixed(1)} s, ${j.epochCpuSeconds[0]!.toFixed(1)} CPU s)${laterNote(j)}, infer ${Math.round(j.inferTokensPerSec)} tok/s, acc ${j.heldOutAccuracy.toFixed(4)}`);
    return { ...j, framework: `pytorch ${j.version}` };
  };

  // ---- Rounds in turns.
  const rounds: { masque: RunResult; torch: RunResult[] }[] = [];
  try {
    for (let k = 0; k < opt.rounds; k++) {
      const m = runMasque(k);
      const t = missing === null ? opt.torchThreads.map((th) => runTorch(k, th)).filter((r): r is RunResult => r !== null) : [];
      rounds.push({ masque: m, torch: t });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const masque = medianRun(rounds.map((r) => r.masque));
  const torch = opt.torchThreads
    .map((th) => rounds.flatMap((r) => r.torch.filter((x) => x.threads === th)))
    .filter((list) => list.length > 0)
    .map(medianRun);

  // ---- The fused BiLSTM alone, against the kernel's matrix-product peak (BiLSTM model only).
  const lstm = opt.model === 'bilstm';
  const peak = lstm ? gemmPeak() : NaN;
  const trainLens = Array.from(plan[Math.floor(plan.length / 2)]!, (i) => lengths[i]!);
  const inferLens = testBatches[Math.floor(testBatches.length / 2)]!.map((i) => data.test.ids[i]!.length);
  const trainRate = lstm ? bilstmRate(trainLens, 64, 64).train : NaN;
  const inferRate = lstm ? bilstmRate(inferLens, 64, 64).infer : NaN;
  const cores = kernelThreads();
  const fl = flopsPerToken(64, 64, data.tags.length);

  // ---- Report.
  type Rate = 'trainTokensPerSec' | 'inferTokensPerSec' | 'laterTokensPerSec';
  /** The fastest run of `runs` at `key` (PyTorch's faster thread setting), or null. */
  const fastest = (runs: RunResult[], key: Rate) => runs.reduce<RunResult | null>((a, r) => (a === null || r[key] > a[key] ? r : a), null);
  const best = (key: Rate) => fastest(torch, key);
  const ratio = (m: number, p: RunResult | null, key: Rate) => (p === null ? 'n/a' : `${(m / p[key]).toFixed(2)}x`);
  const lines: string[] = [];
  const out = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  out('');
  if (opt.rounds > 1) out(`Medians over ${opt.rounds} rounds (each library's rate, tokens per CPU-second and accuracy: the median of its rounds):`);
  out(`| library | threads | train real tok/s | train tok per CPU-s | infer tok/s (batch 256) | held-out acc (${opt.epochs} epoch${opt.epochs > 1 ? 's' : ''}) |`);
  out(`| --- | --- | --- | --- | --- | --- |`);
  for (const r of [masque, ...torch]) {
    out(`| ${r.framework} | ${r.threads} | ${Math.round(r.trainTokensPerSec)} | ${Math.round(r.trainTokens / r.epochCpuSeconds[0]!)} | ${Math.round(r.inferTokensPerSec)} | ${r.heldOutAccuracy.toFixed(4)} |`);
  }
  const bt = best('trainTokensPerSec'), bi = best('inferTokensPerSec');
  out('');
  out(`| ratio (Masque / PyTorch's faster setting) | value | target |`);
  out(`| --- | --- | --- |`);
  out(`| training, real tokens/s | ${ratio(masque.trainTokensPerSec, bt, 'trainTokensPerSec')}${bt ? ` (PyTorch ${bt.threads} thread(s))` : ''} | >= 5x |`);
  out(`| inference, tokens/s | ${ratio(masque.inferTokensPerSec, bi, 'inferTokensPerSec')}${bi ? ` (PyTorch ${bi.threads} thread(s))` : ''} | >= 3x |`);
  if (opt.epochs > 1) {
    const bl = fastest(torch, 'laterTokensPerSec');
    out('');
    out(`Epochs 2-${opt.epochs} (the training rate once a process's one-time costs are paid; the headline above is the first epoch):`);
    out(`| library | threads | train real tok/s, epochs 2-${opt.epochs} | ratio (Masque / PyTorch's faster setting) |`);
    out(`| --- | --- | --- | --- |`);
    for (const r of [masque, ...torch]) out(`| ${r.framework} | ${r.threads} | ${Math.round(r.laterTokensPerSec)} | ${r === masque ? ratio(masque.laterTokensPerSec, bl, 'laterTokensPerSec') : ''} |`);
  }
  if (opt.rounds > 1 && torch.length > 0) {
    out('');
    const later = opt.epochs > 1;
    out(`| round | Masque train / infer tok/s | PyTorch's faster train / infer tok/s | ratio train | ratio infer |${later ? ' ratio train, epochs 2+ |' : ''}`);
    out(`| --- | --- | --- | --- | --- |${later ? ' --- |' : ''}`);
    rounds.forEach((r, k) => {
      const pt = fastest(r.torch, 'trainTokensPerSec'), pi = fastest(r.torch, 'inferTokensPerSec'), pl = fastest(r.torch, 'laterTokensPerSec');
      out(`| ${k + 1} | ${Math.round(r.masque.trainTokensPerSec)} / ${Math.round(r.masque.inferTokensPerSec)} | ${pt ? Math.round(pt.trainTokensPerSec) : 'n/a'} / ${pi ? Math.round(pi.inferTokensPerSec) : 'n/a'} | ${ratio(r.masque.trainTokensPerSec, pt, 'trainTokensPerSec')} | ${ratio(r.masque.inferTokensPerSec, pi, 'inferTokensPerSec')} |${later ? ` ${ratio(r.masque.laterTokensPerSec, pl, 'laterTokensPerSec')} |` : ''}`);
    });
  }
  if (lstm) {
    out('');
    out(`| kernel | GFLOP/s | fraction of peak |`);
    out(`| --- | --- | --- |`);
    out(`| matrix product (asm/gemm.ts), in cache, one core: the peak | ${peak.toFixed(1)} | 1 core |`);
    out(`| BiLSTM layer alone, training step (${trainLens.length}x${Math.max(...trainLens)}, fwd + bwd) | ${trainRate.toFixed(1)} | ${((100 * trainRate) / (peak * cores)).toFixed(0)}% of ${cores} cores |`);
    out(`| BiLSTM layer alone, inference (${inferLens.length}x${Math.max(...inferLens)}) | ${inferRate.toFixed(1)} | ${((100 * inferRate) / (peak * cores)).toFixed(0)}% of ${cores} cores |`);
    out(`| whole Masque training step (${(fl.train / 1e3).toFixed(0)} kFLOP per token) | ${((masque.trainTokensPerSec * fl.train) / 1e9).toFixed(1)} | ${((100 * masque.trainTokensPerSec * fl.train) / 1e9 / (peak * cores)).toFixed(0)}% of ${cores} cores |`);
    out(`| whole Masque inference (${(fl.infer / 1e3).toFixed(0)} kFLOP per token) | ${((masque.inferTokensPerSec * fl.infer) / 1e9).toFixed(1)} | ${((100 * masque.inferTokensPerSec * fl.infer) / 1e9 / (peak * cores)).toFixed(0)}% of ${cores} cores |`);
  }
  out('');
  out(`# load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other jobs on the machine slow wall-clock rates; compare the CPU-time column)`);
  if (opt.json) {
    mkdirSync(dirname(opt.json), { recursive: true });
    writeFileSync(opt.json, `${JSON.stringify({ date: new Date().toISOString(), machine, options: opt, masque, torch, rounds, torchMissing: missing, peakGflops: peak, bilstm: { trainGflops: trainRate, inferGflops: inferRate }, table: lines }, null, 1)}\n`);
    console.log(`# wrote ${opt.json}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
