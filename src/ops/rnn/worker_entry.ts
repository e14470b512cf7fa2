/**
 * The body of a helper thread of the recurrent kernel (Node only). Bundled
 * by scripts/build.mjs into src/generated/rnn_worker_source.js and started
 * by the worker pool of `parallel.ts` (src/runtime/worker_pool.ts) with
 * `new Worker(source, { eval: true })`, so it runs from any install layout
 * without a file path. It owns its own instance of the kernel and computes
 * the forward or backward pass of its share of the rows, one request at a
 * time.
 */
import { rnnKernel } from './kernel.js';
import { kernelBackward, kernelForward } from './kernel_call.js';
import type { HelperRequest, HelperReply } from './parallel.js';
import { ownBuffers } from './buffer_pool.js';
import { serveRequests, type Reply } from '../../runtime/worker_pool.js';
import { answerDense } from './dense_call.js';

function kernel() {
  const k = rnnKernel();
  if (k === null) throw new Error('the recurrent WebAssembly kernel could not be loaded in the helper thread');
  return k;
}

function answer(m: Exclude<HelperRequest, { op: 'denseForward' | 'denseBackward' }>): Exclude<HelperReply, { op: 'denseForward' | 'denseBackward' }> {
  const k = kernel();
  // With `save`, the group's inputs go back too: the backward pass sends them again.
  if (m.op === 'forward') return { op: 'forward', ...kernelForward(k, m.spec, m.x, m.save), xc: m.save ? m.x.xc : null };
  return { op: 'backward', grads: kernelBackward(k, m.spec, m.x, m.saved, m.dPacked) };
}

serveRequests<HelperRequest, HelperReply>((m): Reply<HelperReply> => {
  if (m.op === 'denseForward' || m.op === 'denseBackward') return answerDense(kernel(), m);
  const reply = answer(m);
  // The results' buffers move to the calling thread instead of being copied.
  const results = reply.op === 'forward' ? [reply.packed, reply.saved, reply.xc] : Object.values(reply.grads);
  return { reply, transfer: ownBuffers(...results) };
});
