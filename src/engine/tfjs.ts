/**
 * The tensor engine: TensorFlow.js core with the wasm backend (SIMD) as the
 * default in Node and the cpu backend as fallback. Importing this module
 * registers tfjs's kernels, gradients and chained ops; it does not pick or
 * initialise a backend until `ready()` or the first op.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../generated/tfjs_extras.js';
import { MasqueError } from '../errors.js';

export { tf };

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu' | (string & {});

let readyPromise: Promise<string> | null = null;

/**
 * Initialises the default backend (wasm, falling back to cpu) once. Await it
 * before the first tensor op; later calls return the same promise.
 */
export function ready(): Promise<string> {
  if (readyPromise === null) {
    readyPromise = (async () => {
      if (tf.findBackendFactory('wasm') == null || !(await quietly(() => tf.setBackend('wasm')))) {
        await tf.setBackend('cpu');
      }
      await tf.ready();
      return tf.getBackend();
    })();
  }
  return readyPromise;
}

/** Selects a backend by name ('wasm', 'cpu', or any backend registered with tfjs). */
export async function setBackend(name: BackendName): Promise<void> {
  const ok = await quietly(() => tf.setBackend(name));
  if (!ok) {
    throw new MasqueError(
      'BACKEND_UNAVAILABLE',
      `setBackend: the backend "${name}" could not be initialised; registered backends: ${Object.keys(tf.engine().registryFactory).join(', ')}.`,
    );
  }
  await tf.ready();
  readyPromise = Promise.resolve(tf.getBackend());
}

async function quietly<T>(fn: () => Promise<T>): Promise<T | false> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } catch {
    return false;
  } finally {
    console.warn = warn;
  }
}
