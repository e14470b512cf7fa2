/**
 * The body of a helper thread of the recurrent kernel (Node only). Bundled
 * by scripts/build.mjs into src/generated/rnn_worker_source.js and started
 * by `parallel.ts` with `new Worker(source, { eval: true })`, so it runs
 * from any install layout without a file path. It owns its own instance of
 * the kernel and answers one call at a time: it computes the forward or
 * backward pass of its share of the rows, posts the result on its port,
 * then sets its flag to the call's number (the calling thread waits on the
 * flag, then takes the message with receiveMessageOnPort).
 */
import { rnnKernel } from './kernel.js';
import { kernelBackward, kernelForward } from './kernel_call.js';
import type { HelperRequest, HelperReply } from './parallel.js';
import { ownBuffers } from './buffer_pool.js';

interface Port {
  on(event: 'message', fn: (m: HelperRequest) => void): void;
  postMessage(m: HelperReply, transfer: ArrayBuffer[]): void;
}
declare const require: (id: string) => { workerData: { port: Port; flag: Int32Array } };

const { port, flag } = require('node:worker_threads').workerData;

function answer(m: HelperRequest): HelperReply {
  if (m.op === 'fail') {
    // Tests of the failure paths (probeHelpers): an empty message succeeds.
    if (m.message !== '') throw new Error(m.message);
    return { seq: m.seq, op: 'forward', packed: new Float32Array(0), saved: null, xc: null };
  }
  const k = rnnKernel();
  if (k === null) throw new Error('the recurrent WebAssembly kernel could not be loaded in the helper thread');
  // With `save`, the group's inputs go back too: the backward pass sends them again.
  if (m.op === 'forward') return { seq: m.seq, op: 'forward', ...kernelForward(k, m.spec, m.x, m.save), xc: m.save ? m.x.xc : null };
  return { seq: m.seq, op: 'backward', grads: kernelBackward(k, m.spec, m.x, m.saved, m.dPacked) };
}

port.on('message', (m) => {
  let reply: HelperReply;
  try {
    reply = answer(m);
  } catch (e) {
    reply = { seq: m.seq, op: 'error', message: e instanceof Error ? e.message : String(e) };
  }
  // The results' buffers move to the calling thread instead of being copied.
  const results = reply.op === 'forward' ? [reply.packed, reply.saved, reply.xc] : reply.op === 'backward' ? Object.values(reply.grads) : [];
  try {
    port.postMessage(reply, ownBuffers(...results));
  } catch (e) {
    port.postMessage({ seq: m.seq, op: 'error', message: `could not send the result: ${e instanceof Error ? e.message : String(e)}` }, []);
  }
  Atomics.store(flag, 0, m.seq);
  Atomics.notify(flag, 0);
});
