/**
 * The tensor engine: TensorFlow.js core with the wasm backend (SIMD) as the
 * default in Node and the cpu backend as fallback. Importing this module
 * registers tfjs's kernels, gradients and chained ops, and Masque's own
 * kernels (runtime/kernels.ts), and makes the tensors that tfjs's kernels
 * save for their gradients share their data on wasm (`shareSavedTensors`);
 * it does not pick or initialise a backend until `ready()` or the first op.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../generated/tfjs_extras.js';
import { MasqueError } from '../errors.js';
import { registeredBackends, shareSavedTensors } from './internals.js';
import { registerMasqueKernels } from './kernels.js';

registerMasqueKernels();
shareSavedTensors();

export { tf };

/**
 * `x` as bool by truthiness (non-zero and NaN are true, as numpy's and
 * Keras's casts). Masque never casts to bool: tfjs-backend-wasm 4.22's Cast
 * to bool stores the low byte of the truncated value (0.5 becomes false, -2
 * a "bool" of 254, NaN false).
 */
export function toBool(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'bool' ? x : tf.notEqual(x, tf.scalar(0, x.dtype));
}

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu' | (string & {});

let readyPromise: Promise<string> | null = null;

/**
 * Initialises the default backend (wasm, falling back to cpu) once. Await it
 * before the first tensor op; later calls return the same promise.
 */
export function ready(): Promise<string> {
  if (readyPromise === null) {
    readyPromise = (async () => {
      const restore = keepProcessHandlers();
      try {
        if (tf.findBackendFactory('wasm') == null || !(await quietly(() => tf.setBackend('wasm'))).ok) {
          await tf.setBackend('cpu');
        }
        await tf.ready();
      } finally {
        restore();
      }
      return tf.getBackend();
    })();
  }
  return readyPromise;
}

/** Selects a backend by name ('wasm', 'cpu', or any backend registered with tfjs). */
export async function setBackend(name: BackendName): Promise<void> {
  const restore = keepProcessHandlers();
  let result: { ok: boolean; reason: string | null };
  try {
    result = await quietly(() => tf.setBackend(name));
  } finally {
    restore();
  }
  const { ok, reason } = result;
  if (!ok) {
    throw new MasqueError(
      'BACKEND_UNAVAILABLE',
      `setBackend: the backend "${name}" could not be initialised${reason ? ` (${reason})` : ''}; registered backends: ${registeredBackends().join(', ')}.`,
    );
  }
  await tf.ready();
  readyPromise = Promise.resolve(tf.getBackend());
}

type ProcessEvents = {
  listeners?(event: string): ((...args: unknown[]) => void)[];
  removeListener?(event: string, fn: (...args: unknown[]) => void): void;
};

/**
 * The tfjs wasm backend's Emscripten glue adds process handlers for
 * uncaughtException and unhandledRejection that re-throw from inside its
 * one-line minified source, so any later uncaught error prints ~38 KB of
 * that source and exits with code 7. Returns a function that removes the
 * handlers added since this call (Node only; a no-op elsewhere).
 */
function keepProcessHandlers(): () => void {
  const p = (typeof process !== 'undefined' ? process : undefined) as unknown as ProcessEvents | undefined;
  if (!p?.listeners || !p.removeListener) return () => {};
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => new Set(p.listeners!(e)));
  return () => {
    events.forEach((e, i) => {
      for (const fn of p.listeners!(e)) if (!before[i]!.has(fn)) p.removeListener!(e, fn);
    });
  };
}

/** Runs a tfjs backend switch with its console warnings captured; returns whether it worked and the first reason tfjs gave. */
async function quietly(fn: () => Promise<boolean>): Promise<{ ok: boolean; reason: string | null }> {
  const warn = console.warn;
  const said: string[] = [];
  console.warn = (...args: unknown[]) => void said.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  try {
    const ok = await fn();
    return { ok: ok !== false, reason: said.map((s) => s.split('\n')[0]!).find((s) => s.length > 0) ?? null };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  } finally {
    console.warn = warn;
  }
}
