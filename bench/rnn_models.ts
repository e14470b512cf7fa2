/**
 * The benchmark models, built the same way in Masque and in the peer
 * (@tensorflow/tfjs-layers 4.22): Masking -> LSTM(U) -> Dense(1, sigmoid) on
 * float features, or Embedding(maskZero) -> LSTM(U) -> Dense(1, sigmoid) on
 * token ids; Adam(1e-3) and binary cross-entropy. The Masque model gets the
 * peer's initial weights, so both compute the same function (the peer's
 * LSTM is given Keras's recurrentActivation 'sigmoid'; tfjs-layers defaults
 * to 'hardSigmoid').
 *
 * The peer is loaded with require() from this project's node_modules. It
 * needs @tensorflow/tfjs-core from the same node_modules (not the union
 * package @tensorflow/tfjs): tfjs-core keeps its engine, kernel registry and
 * Tensor class in process globals, so both libraries share one engine and
 * one wasm backend. Masque's engine import registers the chained ops that
 * tfjs-layers needs (the split packages do not).
 */
import { createRequire } from 'node:module';
import { tf, Sequential, Masking, Embedding, LSTM, Dense, Adam } from '../src/index.js';

export type ModelKind = 'masking' | 'embedding';

export interface ModelShape {
  t: number;
  f: number;
  u: number;
  vocab: number;
}

/** The subset of a tfjs-layers model the bench uses. */
export interface PeerModel {
  predict(x: tf.Tensor): tf.Tensor;
  trainOnBatch(x: tf.Tensor, y: tf.Tensor): Promise<number | number[]>;
  getWeights(): tf.Tensor[];
  dispose(): void;
}

interface PeerLayers {
  version_layers: string;
  sequential(a: { layers: unknown[] }): PeerModel & { compile(a: { optimizer: unknown; loss: string }): void };
  layers: Record<string, (a: Record<string, unknown>) => unknown>;
}

let peer: PeerLayers | null = null;

/** @tensorflow/tfjs-layers, loaded once (its banner and initializer warnings hidden). */
export function peerLayers(): PeerLayers {
  if (peer === null) {
    const require = createRequire(import.meta.url);
    peer = quietly(() => require('@tensorflow/tfjs-layers') as PeerLayers);
  }
  return peer;
}

function quietly<T>(fn: () => T): T {
  const { log, warn } = console;
  console.log = () => {};
  console.warn = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

/** The peer model, compiled. */
export function buildPeer(kind: ModelKind, s: ModelShape): PeerModel {
  const tl = peerLayers();
  const first =
    kind === 'masking'
      ? tl.layers['masking']!({ maskValue: 0, inputShape: [s.t, s.f] })
      : tl.layers['embedding']!({ inputDim: s.vocab, outputDim: s.f, maskZero: true, inputLength: s.t });
  const model = quietly(() => tl.sequential({ layers: [first, tl.layers['lstm']!({ units: s.u, recurrentActivation: 'sigmoid' }), tl.layers['dense']!({ units: 1, activation: 'sigmoid' })] }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  return model;
}

/** The Masque model with the given initial weights (the peer's; null keeps Masque's own), compiled. The time axis stays free. */
export function buildMasque(kind: ModelKind, s: ModelShape, weights: tf.Tensor[] | null): Sequential {
  const first = kind === 'masking' ? new Masking({ maskValue: 0 }) : new Embedding({ inputDim: s.vocab, outputDim: s.f, maskZero: true });
  const model = new Sequential({ layers: [first, new LSTM({ units: s.u }), new Dense({ units: 1, activation: 'sigmoid' })] });
  const probe = kind === 'masking' ? tf.ones([1, 2, s.f]) : tf.ones([1, 2], 'int32');
  tf.dispose([probe, model.predict(probe) as tf.Tensor]);
  if (weights !== null) model.setWeights(weights);
  model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'binary_crossentropy' });
  return model;
}

/**
 * tfjs-layers' Embedding training on wasm as tfjs ships it: Masque registers
 * an UnsortedSegmentSum kernel for wasm (src/runtime/kernels.ts) into the
 * registry both libraries share, so the kernel is taken out for this one
 * small call. Returns the error, or null if the call succeeds.
 */
export async function peerEmbeddingTrainAlone(): Promise<string | null> {
  const kernel = tf.getKernel('UnsortedSegmentSum', 'wasm');
  if (kernel !== undefined) tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
  const model = buildPeer('embedding', { t: 5, f: 4, u: 4, vocab: 10 });
  const x = tf.ones([2, 5], 'int32');
  const y = tf.ones([2, 1]);
  try {
    await model.trainOnBatch(x, y);
    return null;
  } catch (e) {
    return String((e as Error).message ?? e).split('\n')[0]!;
  } finally {
    if (kernel !== undefined) tf.registerKernel(kernel);
    model.dispose();
    tf.dispose([x, y]);
  }
}
