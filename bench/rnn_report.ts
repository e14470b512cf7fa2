/**
 * The benchmark's tables: throughput against the peer, padding sensitivity,
 * Embedding versus Masking training, and memory. Returns the summary that
 * goes into bench/results.json.
 */
import type { MemoryReport } from './rnn_memory.js';

/** One measurement. */
export interface Row {
  lib: 'masque' | 'tfjs-layers';
  config: string;
  padding: string;
  model: string;
  phase: 'infer' | 'train';
  realTokens: number;
  /** Set for the padding-sensitivity runs: the padded length used. */
  paddedTo?: number;
  /** Wall-clock ms per iteration (median). */
  msMedian?: number;
  /** CPU ms per iteration (median). */
  cpuMsMedian?: number;
  iters?: number;
  /** Real tokens per wall-clock second (what a user waits for). */
  realTokPerS?: number;
  /** Real tokens per CPU second (all threads' CPU time: the work done). */
  cpuTokPerS?: number;
  tensorsBefore?: number;
  tensorsAfter?: number;
  rssMiB?: number;
  arrayBuffersMiB?: number;
  error?: string;
  /** Live tensors a failed measurement left behind. */
  tensorsLeftByFailure?: number;
}

const fmt = (v: number | undefined, d = 0) => (v === undefined ? '-' : v.toFixed(d));

function table(header: string[], body: (string | number)[][]): void {
  console.log('');
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const r of body) console.log(`| ${r.join(' | ')} |`);
}

export function printTables(
  rows: Row[],
  agreement: { config: string; padding: string; model: string; maxAbsDiff: number }[],
  memory: MemoryReport | null,
  peak: { rssMiB: number; arrayBuffersMiB: number },
  machine: { cores: number; cpu: string; masqueThreads: number },
  peerEmbeddingAlone: string | null,
) {
  const find = (lib: string, c: string, p: string, m: string, ph: string, paddedTo?: number) =>
    rows.find((r) => r.lib === lib && r.config === c && r.padding === p && r.model === m && r.phase === ph && r.paddedTo === paddedTo);
  const keys = [...new Set(rows.filter((r) => r.paddedTo === undefined).map((r) => `${r.config}|${r.padding}|${r.model}|${r.phase}`))];
  const throughput = keys.map((k) => {
    const [c, p, m, ph] = k.split('|') as [string, string, string, string];
    const peer = find('tfjs-layers', c, p, m, ph);
    const ours = find('masque', c, p, m, ph);
    const ratio = peer?.realTokPerS && ours?.realTokPerS ? ours.realTokPerS / peer.realTokPerS : undefined;
    const cpuRatio = peer?.cpuTokPerS && ours?.cpuTokPerS ? ours.cpuTokPerS / peer.cpuTokPerS : undefined;
    return { config: c, padding: p, model: m, phase: ph, peerTokPerS: peer?.realTokPerS, peerError: peer?.error, masqueTokPerS: ours?.realTokPerS, masqueWallMs: ours?.msMedian, masqueMs: ours?.cpuMsMedian, masqueError: ours?.error, ratio, cpuRatio };
  });
  table(
    ['BxTxFxU', 'padding', 'model', 'phase', 'tfjs-layers real tok/s', 'Masque real tok/s', 'ratio', 'Masque ms/batch (wall / CPU)', 'ratio by CPU time'],
    throughput.map((r) => [r.config, r.padding, r.model, r.phase, r.peerError ? `fails: ${r.peerError}` : fmt(r.peerTokPerS), r.masqueError ? `fails: ${r.masqueError}` : fmt(r.masqueTokPerS), r.ratio ? `${r.ratio.toFixed(1)}x` : '-', `${fmt(r.masqueWallMs, 1)} / ${fmt(r.masqueMs, 1)}`, r.cpuRatio ? `${r.cpuRatio.toFixed(1)}x` : '-']),
  );

  const sens = [...new Set(rows.filter((r) => r.paddedTo !== undefined).map((r) => `${r.config}|${r.padding}|${r.model}|${r.phase}`))].map((k) => {
    const [c, p, m, ph] = k.split('|') as [string, string, string, string];
    const ts = rows.filter((r) => r.lib === 'masque' && r.config === c && r.padding === p && r.model === m && r.phase === ph && r.paddedTo !== undefined).sort((a, b) => a.paddedTo! - b.paddedTo!);
    const [base, wide] = [ts[0]!, ts[ts.length - 1]!];
    const over = (a?: number, b?: number) => (a && b ? b / a : undefined);
    return { config: c, padding: p, model: m, phase: ph, t: base.paddedTo!, t4: wide.paddedTo!, ms: base.msMedian, ms4: wide.msMedian, ratio: over(base.msMedian, wide.msMedian), cpuRatio: over(base.cpuMsMedian, wide.cpuMsMedian) };
  });
  table(
    ['BxTxFxU', 'padding', 'model', 'phase', 'Masque ms, padded to longest (T)', 'padded to 4T', '4T / T', '4T / T by CPU time'],
    sens.map((r) => [r.config, r.padding, r.model, r.phase, `${fmt(r.ms, 1)} (T=${r.t})`, `${fmt(r.ms4, 1)} (T=${r.t4})`, r.ratio ? `${r.ratio.toFixed(2)}x` : '-', r.cpuRatio ? `${r.cpuRatio.toFixed(2)}x` : '-']),
  );

  const embedding = throughput
    .filter((r) => r.model === 'embedding' && r.phase === 'train')
    .map((r) => {
      const masking = throughput.find((q) => q.model === 'masking' && q.phase === 'train' && q.config === r.config && q.padding === r.padding);
      return { config: r.config, padding: r.padding, embeddingTokPerS: r.masqueTokPerS, maskingTokPerS: masking?.masqueTokPerS, slowdown: r.masqueTokPerS && masking?.masqueTokPerS ? masking.masqueTokPerS / r.masqueTokPerS : undefined, peerError: r.peerError, peerTokPerS: r.peerTokPerS };
    });
  table(
    ['BxTxFxU', 'padding', 'Masque Embedding->LSTM train tok/s', 'Masking->LSTM train tok/s', 'Masking / Embedding', 'tfjs-layers Embedding train (with Masque\'s UnsortedSegmentSum)'],
    embedding.map((r) => [r.config, r.padding, fmt(r.embeddingTokPerS), fmt(r.maskingTokPerS), r.slowdown ? `${r.slowdown.toFixed(2)}x` : '-', r.peerError ? `fails: ${r.peerError}` : r.peerTokPerS !== undefined ? `${fmt(r.peerTokPerS)} tok/s` : '-']),
  );

  table(['check', 'value'], [
    ['tfjs-layers alone: Embedding training on wasm', peerEmbeddingAlone === null ? 'runs' : `fails: ${peerEmbeddingAlone}`],
    ['max |Masque - tfjs-layers| of predictions (same weights)', Math.max(...agreement.map((a) => a.maxAbsDiff)).toExponential(1)],
    ...(memory
      ? [
          [`Masque alone (first), ${memory.steps} train+predict steps: live tensors at 10% -> end`, `${memory.tensorsAtTenth} -> ${memory.tensorsAtEnd}`],
          ['  rss before the model -> at 10% -> end', `${memory.rssMiBBefore.toFixed(0)} -> ${memory.rssMiBAtTenth.toFixed(0)} -> ${memory.rssMiBAtEnd.toFixed(0)} MiB`],
          ['  arrayBuffers at 10% -> end', `${memory.arrayBuffersMiBAtTenth.toFixed(0)} -> ${memory.arrayBuffersMiBAtEnd.toFixed(0)} MiB`],
          ['  tfjs wasm heap / RNN kernel memory', `${memory.tfjsWasmHeapMiB.toFixed(0)} / ${memory.rnnKernelMemoryMiB.toFixed(0)} MiB`],
        ]
      : []),
    ['peak rss, whole run (both libraries share the process and tfjs heap)', `${peak.rssMiB.toFixed(0)} MiB`],
    ['peak arrayBuffers, whole run', `${peak.arrayBuffersMiB.toFixed(0)} MiB`],
    ['machine', `${machine.cores} cores, ${machine.cpu}`],
    ['threads', `Masque's recurrent kernel: ${machine.masqueThreads}; tfjs-layers (wasm backend in Node): 1`],
  ]);
  return { throughput, paddingSensitivity: sens, embeddingVsMasking: embedding };
}
