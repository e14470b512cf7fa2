/**
 * The browser entry of Masque (bundled by `npm run build:browser` into
 * `dist/browser/masque.js`). It re-exports the public API of `index.ts`,
 * registers tfjs's WebGL backend, and points the wasm backend at the
 * `.wasm` files that the build copies beside the bundle.
 *
 * Node-only modules (the `node:fs` file helpers `loadModel`, `saveModel`,
 * …) are not part of the bundle: the build replaces them with functions that
 * throw `NODE_ONLY` and name the bytes-based function to use instead
 * (`loadModelFromBytes`, `saveModelToBytes`).
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgl';

export * from './index.js';
export { maskRole, type MaskRole } from './models/summary.js';
export type { Node as GraphNode } from './engine/symbolic.js';

/**
 * The folder the wasm backend loads `tfjs-backend-wasm*.wasm` from: the
 * bundle's own folder. Call `setWasmFolder` before `ready()` to load them
 * from elsewhere.
 */
export const defaultWasmFolder = new URL('./', import.meta.url).href;

/** Tells the wasm backend where its `.wasm` files are (a URL ending in '/'). Call before `ready()`. */
export function setWasmFolder(folder: string): void {
  setWasmPaths(folder.endsWith('/') ? folder : `${folder}/`);
}

setWasmFolder(defaultWasmFolder);
