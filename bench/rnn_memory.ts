/**
 * Memory over many steps: Masque's Masking -> LSTM -> Dense model trains and
 * predicts `steps` times on one batch; live tensors and process memory are
 * read after 10% of the steps (everything allocated lazily exists by then)
 * and at the end. Run first, so the process holds Masque only.
 */
import { tf } from '../src/index.js';
import { makeLengths, makeRows, mulberry32, padRows } from './rnn_data.js';
import { buildMasque } from './rnn_models.js';
import { sampleMemory } from './rnn_timing.js';
import { rnnKernel } from '../src/ops/rnn/kernel.js';

export interface MemoryReport {
  steps: number;
  /** Process rss before the model was built. */
  rssMiBBefore: number;
  msPerStep: number;
  tensorsAtTenth: number;
  tensorsAtEnd: number;
  rssMiBAtTenth: number;
  rssMiBAtEnd: number;
  arrayBuffersMiBAtTenth: number;
  arrayBuffersMiBAtEnd: number;
  /** Size of tfjs's wasm heap and of Masque's recurrent-kernel memory at the end (both only grow). */
  tfjsWasmHeapMiB: number;
  rnnKernelMemoryMiB: number;
}

export async function memoryRun(
  cfg: { b: number; t: number; f: number; u: number },
  opt: { seed: number; median: number; sigma: number; vocab: number },
  steps: number,
): Promise<MemoryReport> {
  const rssMiBBefore = sampleMemory().rssMiB;
  const rng = mulberry32(opt.seed + cfg.b * 7919 + cfg.t);
  const rows = makeRows(rng, makeLengths(rng, cfg.b, cfg.t, opt.median, opt.sigma), cfg.f, opt.vocab);
  const { x } = padRows(rows, cfg.t, 'post');
  const xt = tf.tensor3d(x, [cfg.b, cfg.t, cfg.f]);
  const yt = tf.tensor2d(rows.y, [cfg.b, 1]);
  const model = buildMasque('masking', { t: cfg.t, f: cfg.f, u: cfg.u, vocab: opt.vocab }, null);
  const tenth = Math.max(1, Math.floor(steps / 10));
  let at = { tensors: 0, rss: 0, ab: 0 };
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    model.trainOnBatch(xt, yt);
    const y = model.predict(xt) as tf.Tensor;
    await y.data();
    y.dispose();
    if (i === tenth) {
      const m = sampleMemory();
      at = { tensors: tf.memory().numTensors, rss: m.rssMiB, ab: m.arrayBuffersMiB };
    }
  }
  const ms = (performance.now() - t0) / steps;
  const end = sampleMemory();
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? 0;
  const report: MemoryReport = {
    steps,
    rssMiBBefore,
    msPerStep: ms,
    tensorsAtTenth: at.tensors,
    tensorsAtEnd: tf.memory().numTensors,
    rssMiBAtTenth: at.rss,
    rssMiBAtEnd: end.rssMiB,
    arrayBuffersMiBAtTenth: at.ab,
    arrayBuffersMiBAtEnd: end.arrayBuffersMiB,
    tfjsWasmHeapMiB: heap / 2 ** 20,
    rnnKernelMemoryMiB: (rnnKernel()?.memory.buffer.byteLength ?? 0) / 2 ** 20,
  };
  model.dispose();
  tf.dispose([xt, yt]);
  return report;
}
