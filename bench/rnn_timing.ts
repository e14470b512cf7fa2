/**
 * Timing and memory sampling for the benchmark: a warm-up, then timed
 * iterations until a time budget is spent; medians are reported. Each
 * iteration is timed twice: wall clock (what a user waits for; the rates)
 * and the process's CPU time over all threads (user + system: the work
 * done, which Masque spreads over its kernel threads). Process memory (rss,
 * arrayBuffers) is sampled after every iteration.
 */
import { tf } from '../src/index.js';

export interface Timing {
  iters: number;
  /** Wall-clock ms per iteration (median). */
  msMedian: number;
  /** CPU ms per iteration (median). */
  cpuMsMedian: number;
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
  const wall: number[] = [];
  const cpu: number[] = [];
  const t0 = performance.now();
  do {
    const s = performance.now();
    const c = process.cpuUsage();
    await fn();
    const dc = process.cpuUsage(c);
    wall.push(performance.now() - s);
    cpu.push((dc.user + dc.system) / 1000);
    sampleMemory();
  } while (performance.now() - t0 < budgetS * 1000 || wall.length < minIters);
  return { iters: wall.length, msMedian: median(wall), cpuMsMedian: median(cpu), tensorsBefore, tensorsAfter: tf.memory().numTensors };
}

/**
 * Times several calls in turns (a, b, a, b, ...) until the budget is spent,
 * so that drift in the machine's speed (other jobs, clock changes) affects
 * each alike; used where their ratio is the result.
 */
export async function timeInterleaved(fns: (() => unknown)[], warmup: number, budgetS: number, minIters = 1): Promise<Timing[]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const tensorsBefore = tf.memory().numTensors;
  const wall: number[][] = fns.map(() => []);
  const cpu: number[][] = fns.map(() => []);
  const t0 = performance.now();
  do {
    for (let k = 0; k < fns.length; k++) {
      const s = performance.now();
      const c = process.cpuUsage();
      await fns[k]!();
      const dc = process.cpuUsage(c);
      wall[k]!.push(performance.now() - s);
      cpu[k]!.push((dc.user + dc.system) / 1000);
      sampleMemory();
    }
  } while (performance.now() - t0 < budgetS * 1000 || wall[0]!.length < minIters);
  const tensorsAfter = tf.memory().numTensors;
  return fns.map((_, k) => ({ iters: wall[k]!.length, msMedian: median(wall[k]!), cpuMsMedian: median(cpu[k]!), tensorsBefore, tensorsAfter }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
