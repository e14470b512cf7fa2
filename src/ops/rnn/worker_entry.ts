/**
 * The body of a helper thread of the recurrent kernel (Node only). Bundled
 * by scripts/build.mjs into src/generated/rnn_worker_source.js and started
 * by the worker pool of `parallel.ts` (src/runtime/worker_pool.ts) with
 * `new Worker(source, { eval: true })`, so it runs from any install layout
 * without a file path. It owns its own instance of the kernel and computes
 * the forward or backward pass of its share of the rows, one request at a
 * time. Requests and replies cross in shared memory (worker_pool.ts).
 */
import { rnnKernel, setRelaxedSimd } from './kernel.js';
import { kernelBackward, kernelForward, type SavedActivations } from './kernel_call.js';
import type { HelperRequest, HelperReply, HelperSettings } from './parallel.js';
import { savedPool } from './buffer_pool.js';
import { helperSettings, serveRequests } from '../../runtime/worker_pool.js';
import { answerDense, type DenseReply, type DenseRequest } from './dense_call.js';

// The same kernel build as the calling thread's (before this thread loads it;
// without settings, the default rule).
setRelaxedSimd((helperSettings() as HelperSettings | undefined)?.relaxedSimd);

function kernel() {
  const k = rnnKernel();
  if (k === null) throw new Error('the recurrent WebAssembly kernel could not be loaded in the helper thread');
  return k;
}

/**
 * Saved activations of forward passes that the calling thread asked this
 * thread to keep (`hold`) for their backward pass, by its id, oldest first.
 * A tape whose gradient is never taken leaves its entry behind, so at most
 * HELD_COUNT entries and HELD_BYTES are kept: the oldest go first, and a
 * backward pass that asks for one of them gets no gradients back (the
 * calling thread then computes the activations again itself: parallel.ts).
 */
const held = new Map<number, SavedActivations>();
let heldBytes = 0;
const HELD_COUNT = 64;
const HELD_BYTES = 256 * 2 ** 20;

function hold(id: number, saved: SavedActivations): void {
  held.set(id, saved);
  heldBytes += saved.byteLength;
  for (const [old, a] of held) {
    if (held.size <= HELD_COUNT && heldBytes <= HELD_BYTES) break;
    held.delete(old);
    heldBytes -= a.byteLength;
    savedPool.give(a);
  }
}

function answer(m: Exclude<HelperRequest, DenseRequest>): Exclude<HelperReply, DenseReply> {
  const k = kernel();
  if (m.op === 'forward') {
    // The packed result stays in kernel memory: the pool copies the reply into shared memory before the kernel runs again.
    const r = kernelForward(k, m.spec, m.x, m.save, true);
    if (r.saved !== null) {
      if (m.hold === undefined) throw new Error('a forward pass that saves its activations came without an id to keep them under');
      hold(m.hold, r.saved);
    }
    return { op: 'forward', packed: r.packed };
  }
  const saved = held.get(m.held);
  if (saved === undefined) return { op: 'backward', grads: null };
  held.delete(m.held);
  heldBytes -= saved.byteLength;
  // (kernelBackward gives the activations back to this thread's pool once they are in kernel memory.)
  return { op: 'backward', grads: kernelBackward(k, m.spec, m.x, saved, m.dPacked) };
}

serveRequests<HelperRequest, HelperReply>((m) => {
  if (m.op === 'denseForward' || m.op === 'denseBackward' || m.op === 'denseClasses') return answerDense(kernel(), m);
  return answer(m);
});
