/**
 * Timing and memory sampling for the benchmark: a warm-up, then timed
 * iterations until a time budget is spent; the median is reported. Process
 * memory (rss, arrayBuffers) is sampled after every iteration.
 */
import { tf } from '../src/index.js';

export interface Timing {
  iters: number;
  msMedian: number;
  msMin: number;
  /** Live tensors after the warm-up and after the timed loop. */
  tensorsBefore: number;
  tensorsAfter: number;
}

/** Peak process memory seen so far, in MiB. */
export const peak = { rssMiB: 0, arrayBuffersMiB: 0 };

export function sampleMemory(): { rssMiB: number; arrayBuffersMiB: number } {
  const m = process.memoryUsage();
  const now = { rssMiB: m.rss / 2 ** 20, arrayBuffersMiB: m.arrayBuffers / 2 ** 20 };
  peak.rssMiB = Math.max(peak.rssMiB, now.rssMiB);
  peak.arrayBuffersMiB = Math.max(peak.arrayBuffersMiB, now.arrayBuffersMiB);
  return now;
}

export async function timeLoop(fn: () => unknown, warmup: number, budgetS: number, minIters = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const tensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  const t0 = performance.now();
  do {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
    sampleMemory();
  } while (performance.now() - t0 < budgetS * 1000 || times.length < minIters);
  times.sort((a, b) => a - b);
  return { iters: times.length, msMedian: times[Math.floor(times.length / 2)]!, msMin: times[0]!, tensorsBefore, tensorsAfter: tf.memory().numTensors };
}
