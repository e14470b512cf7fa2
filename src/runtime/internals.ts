/**
 * The one module that reads TensorFlow.js internals: the wasm backend's heap
 * and data map, its output allocation, the engine's gradient tape and its
 * kernel registry. These are not public API, so every access goes through
 * here, and the first one checks that the installed tfjs is the version this
 * file was written for. On another version it fails with a clear error
 * instead of reading the wrong fields.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MasqueError } from '../errors.js';

/** The tfjs-core (and tfjs-backend-wasm) version whose internals this file reads. */
export const TFJS_VERSION = '4.22.0';

let checked = false;

/** Throws BACKEND_UNAVAILABLE unless the installed tfjs-core is TFJS_VERSION. */
export function checkTfjsVersion(found: string = tf.version_core): void {
  if (found === TFJS_VERSION) {
    if (found === tf.version_core) checked = true;
    return;
  }
  throw new MasqueError(
    'BACKEND_UNAVAILABLE',
    `Masque reads internals of @tensorflow/tfjs-core ${TFJS_VERSION} (src/runtime/internals.ts), but ${found} is installed. ` +
      `Install the pinned version (npm ci), or update src/runtime/internals.ts for ${found}.`,
  );
}

function internal<T>(read: () => T): T {
  if (!checked) checkTfjsVersion();
  return read();
}

/** The fields of tfjs-backend-wasm 4.22's backend object that Masque reads. */
interface WasmBackend {
  dataIdMap: { get(id: object): { id: number; memoryOffset: number; refCount: number } | undefined };
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: unknown }; tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: object): void;
  readSync(dataId: unknown): ArrayLike<number>;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
}

/** The active backend as the wasm backend, or null when another backend is active. */
function wasmBackend(): WasmBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  return internal(() => {
    const b = tf.backend() as unknown as Partial<WasmBackend>;
    return b.wasm?.HEAPU8 !== undefined && b.dataIdMap !== undefined && typeof b.makeOutput === 'function' ? (b as WasmBackend) : null;
  });
}

/** The wasm backend's heap bytes, or null on other backends. Detached when the heap grows: take it afresh. */
export function wasmHeapBytes(): Uint8Array | null {
  return wasmBackend()?.wasm.HEAPU8 ?? null;
}

/** The wasm backend's WebAssembly memory (tensor data lives there), or null. */
export function wasmHeapMemory(): WebAssembly.Memory | null {
  const mem = wasmBackend()?.wasm.asm?.memory;
  return mem instanceof WebAssembly.Memory ? mem : null;
}

/** Byte offset of `t`'s data in the wasm heap, or null when `t` is not in it. */
export function wasmDataOffset(t: tf.Tensor): number | null {
  return wasmBackend()?.dataIdMap.get(t.dataId)?.memoryOffset ?? null;
}

/**
 * How many tensors share `t`'s data in the wasm heap (a reshape and a
 * variable's initial value share it; tf.clone copies), or null on other
 * backends. 1: only `t` sees its data.
 */
export function wasmRefCount(t: tf.Tensor): number | null {
  return wasmBackend()?.dataIdMap.get(t.dataId)?.refCount ?? null;
}

/**
 * Tells the wasm backend that `t`'s data was overwritten in place. tfjs
 * tensors are otherwise immutable, and the backend keeps what it derives
 * from a tensor's data under its id (XNNPACK's packed matMul and
 * convolution weights, made when the tensor is first used as a filter):
 * its native registration is dropped, which runs those disposal
 * callbacks, and made again at the same memory (nothing is freed or
 * copied). Returns false on other backends.
 */
export function wasmDataChanged(t: tf.Tensor): boolean {
  const b = wasmBackend();
  const d = b?.dataIdMap.get(t.dataId);
  if (b === null || d === undefined) return false;
  return internal(() => {
    b.wasm.tfjs.disposeData(d.id);
    b.wasm.tfjs.registerTensor(d.id, t.size, d.memoryOffset);
    return true;
  });
}

/** A new tensor whose (uninitialised) data is allocated in the wasm heap, or null on other backends. */
export function allocateWasmTensor(shape: number[], dtype: tf.DataType): tf.Tensor | null {
  const b = wasmBackend();
  if (b === null) return null;
  return internal(() => tf.engine().makeTensorFromTensorInfo(b.makeOutput(shape, dtype)));
}

/** Whether tfjs is recording operations for a gradient (a forward pass must then keep what its backward pass needs). */
export function isTapeOn(): boolean {
  return internal(() => {
    const e = tf.engine() as unknown as { isTapeOn?: () => boolean };
    return typeof e.isTapeOn === 'function' ? e.isTapeOn() : true;
  });
}

/**
 * When the function given to tf.variableGrads throws, tfjs 4.22 leaves its
 * tape behind, with the tensors it kept for the backward pass; frees them
 * (only outside any enclosing gradient computation).
 */
export function disposeAbandonedTape(): void {
  internal(() => {
    const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null } }).state;
    if (state.gradientDepth !== 0 || state.activeTape === null) return;
    for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
    state.activeTape = null;
  });
}

/** Names of the backends registered with tfjs (for error messages). */
export function registeredBackends(): string[] {
  return internal(() => Object.keys((tf.engine() as unknown as { registryFactory: Record<string, unknown> }).registryFactory));
}

/** Whether `kernelName` is registered for `backend`. */
export function hasKernel(kernelName: string, backend: string): boolean {
  return tf.getKernel(kernelName, backend) !== undefined;
}

/** Set while `saveSharingData` runs: the wasm Identity kernel then shares its input's data. */
let identityShares = false;
let sharingIdentity: 'installed' | 'unavailable' | null = null;

/**
 * Wraps the wasm backend's Identity kernel (once) so that it can share its
 * input's data (a reference, as its Reshape does and as the cpu and webgl
 * backends' Identity always do) instead of copying it, while
 * `identityShares` is set. False when that cannot be done.
 */
function installSharingIdentity(): boolean {
  if (sharingIdentity === null) {
    const original = internal(() => tf.getKernel('Identity', 'wasm'));
    sharingIdentity = original === undefined ? 'unavailable' : 'installed';
    if (original !== undefined) {
      tf.unregisterKernel('Identity', 'wasm');
      tf.registerKernel({
        ...original,
        kernelFunc: (args) => {
          const x = (args.inputs as { x?: tf.TensorInfo }).x;
          if (!identityShares || x === undefined || x.dtype === 'string') return original.kernelFunc(args);
          (args.backend as unknown as WasmBackend).incRef(x.dataId);
          return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
        },
      });
    }
  }
  return sharingIdentity === 'installed';
}

/**
 * Calls a customGrad's `save` with `tensors` without copying their data.
 * tfjs keeps a clone of each saved tensor for the backward pass, and the
 * wasm backend's clone (its Identity kernel) copies the data; tensor data is
 * never written in place except by code that checks the backend's
 * reference count first (`wasmRefCount`), so on wasm the clones here share
 * their data instead, as the cpu backend's clones do. Elsewhere plain `save`.
 */
export function saveSharingData(save: tf.GradSaveFunc, tensors: tf.Tensor[]): void {
  if (tf.getBackend() !== 'wasm' || !installSharingIdentity()) {
    save(tensors);
    return;
  }
  identityShares = true;
  try {
    save(tensors);
  } finally {
    identityShares = false;
  }
}

let savesShared = false;
let copyingSave: ((tensors: tf.Tensor[]) => tf.Tensor[]) | null = null;

/** For tests: runs `fn` with tfjs's own (copying) saves; throws where `shareSavedTensors` did not install Masque's. */
export function withCopyingSaves<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as { saveTensorsForBackwardMode: (tensors: tf.Tensor[]) => tf.Tensor[] };
  if (copyingSave === null) throw new Error('withCopyingSaves: the engine does not save through Masque');
  const own = engine.saveTensorsForBackwardMode;
  engine.saveTensorsForBackwardMode = copyingSave;
  try {
    return fn();
  } finally {
    engine.saveTensorsForBackwardMode = own;
  }
}

/**
 * Makes the tensors that tfjs's own kernels save for the backward pass
 * share their data on the wasm backend, as `saveSharingData` does for
 * Masque's ops: the engine keeps a clone of each input or output that a
 * kernel's gradient reads (`saveTensorsForBackwardMode`), and the wasm
 * backend's clone copies the data (a transformer tagger's training step
 * copied about 3 MB this way). Safe for the same reason: nothing writes a
 * tensor's data in place without checking its reference count first. Once,
 * when the runtime loads; other backends are untouched (their clones share
 * already).
 */
export function shareSavedTensors(): void {
  if (savesShared) return;
  const engine = tf.engine() as unknown as { saveTensorsForBackwardMode?: (tensors: tf.Tensor[]) => tf.Tensor[] };
  const original = engine.saveTensorsForBackwardMode;
  if (typeof original !== 'function') return;
  savesShared = true;
  copyingSave = original;
  engine.saveTensorsForBackwardMode = function (this: unknown, tensors: tf.Tensor[]): tf.Tensor[] {
    if (tf.getBackend() !== 'wasm' || identityShares || !installSharingIdentity()) return original.call(this, tensors);
    identityShares = true;
    try {
      return original.call(this, tensors);
    } finally {
      identityShares = false;
    }
  };
}

/**
 * Wraps tfjs's wasm kernel `kernelName`: when one of `inputNames` has no
 * elements, the output of `outShape(inputs, attrs)` is made without running
 * the kernel (which may fail on it or leave the output unwritten), holding
 * `fill` (0 unless given; of `fill.dtype`, else the first input's) where it
 * has elements; any other input runs the kernel. Once.
 */
export function guardEmptyWasmKernel(
  kernelName: string,
  outShape: (inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>) => number[],
  inputNames: readonly string[] = ['x'],
  fill: { value: (dtype: tf.DataType) => number; dtype?: tf.DataType } = { value: () => 0 },
): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (original === undefined || (original.kernelFunc as { masqueGuard?: true }).masqueGuard) return;
  const kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    if (inputNames.some((n) => inputs[n]!.shape.some((d) => d === 0))) {
      const backend = args.backend as unknown as WasmBackend;
      const dtype = fill.dtype ?? inputs[inputNames[0]!]!.dtype;
      const out = backend.makeOutput(outShape(inputs, args.attrs as unknown as Record<string, unknown>), dtype);
      // The output over an empty axis is the fill (the heap memory it gets holds anything).
      if (out.shape.every((d) => d > 0)) backend.typedArrayFromHeap(out).fill(fill.value(dtype));
      return out;
    }
    return original.kernelFunc(args);
  }) as tf.KernelFunc & { masqueGuard?: true };
  kernelFunc.masqueGuard = true;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}

/**
 * Registers a kernel for the wasm backend that reads its inputs and writes
 * its output in the backend's heap, unless one is registered already (or,
 * with `replace`, in place of the one registered: for a kernel of tfjs's
 * that is wrong). `compute` gets the inputs' values and the output array to
 * fill.
 */
export function registerWasmKernel(
  kernelName: string,
  outputShape: (inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>) => { shape: number[]; dtype: tf.DataType },
  compute: (inputs: Record<string, ArrayLike<number>>, shapes: Record<string, number[]>, attrs: Record<string, unknown>, out: Float32Array | Int32Array) => void,
  replace = false,
): void {
  if (hasKernel(kernelName, 'wasm')) {
    if (!replace) return;
    tf.unregisterKernel(kernelName, 'wasm');
  }
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as WasmBackend;
      const ins = inputs as Record<string, tf.TensorInfo>;
      const a = attrs as unknown as Record<string, unknown>;
      const { shape, dtype } = outputShape(ins, a);
      const out = b.makeOutput(shape, dtype);
      const values: Record<string, ArrayLike<number>> = {};
      const shapes: Record<string, number[]> = {};
      for (const [k, info] of Object.entries(ins)) {
        values[k] = b.readSync(info.dataId);
        shapes[k] = info.shape;
      }
      compute(values, shapes, a, b.typedArrayFromHeap(out));
      return out;
    },
  });
}
