/**
 * Keras import entries for the recurrent layers: SimpleRNN, LSTM, GRU and
 * the wrappers Bidirectional and TimeDistributed (whose configs nest layer
 * configs under `layer` and `backward_layer`).
 */
import { MasqueError, describe } from '../errors.js';
import { registerKerasLayers, type AnyLayer, type ConvertContext, type KerasLayerEntry } from './keras_layers.js';
import { SimpleRNN } from '../layers/rnn/simple_rnn.js';
import { LSTM } from '../layers/rnn/lstm.js';
import { GRU } from '../layers/rnn/gru.js';
import { RNNLayer } from '../layers/rnn/rnn_base.js';
import { Bidirectional } from '../layers/rnn/bidirectional.js';
import { TimeDistributed } from '../layers/rnn/time_distributed.js';
import { Layer } from '../engine/layer.js';

/** Keys every Keras recurrent layer writes (camelCase). */
const RNN_KEYS = [
  'units',
  'activation',
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'returnSequences',
  'returnState',
  'goBackwards',
  'zeroOutputForMask',
  'dropout',
  'recurrentDropout',
  'unroll',
  'seed',
] as const;

function nested(raw: Record<string, unknown>, key: string, ctx: ConvertContext, owner: string): AnyLayer {
  const entry = raw[key];
  if (entry === null || typeof entry !== 'object') {
    throw new MasqueError('INVALID_CONFIG', `Keras config of ${owner} '${String(raw['name'])}': '${key}' must be a layer config; received ${describe(entry)}.`);
  }
  return ctx.layerFromConfig(entry);
}

function rnnOnly(layer: AnyLayer, owner: string, key: string): RNNLayer {
  if (!(layer instanceof RNNLayer)) {
    throw new MasqueError('UNSUPPORTED_CONFIG', `Keras config of ${owner}: '${key}' must be a SimpleRNN, LSTM or GRU layer; received ${layer.className} '${layer.name}'.`);
  }
  return layer;
}

const entries: Record<string, KerasLayerEntry> = {
  SimpleRNN: { keys: RNN_KEYS, create: (a) => new SimpleRNN(a as never) },
  LSTM: { keys: [...RNN_KEYS, 'recurrentActivation', 'unitForgetBias'], create: (a) => new LSTM(a as never) },
  GRU: { keys: [...RNN_KEYS, 'recurrentActivation', 'resetAfter'], create: (a) => new GRU(a as never) },
  Bidirectional: {
    keys: ['layer', 'backwardLayer', 'mergeMode'],
    create(a, ctx, raw) {
      const where = `Bidirectional '${String(raw['name'])}'`;
      const layer = rnnOnly(nested(raw, 'layer', ctx, 'Bidirectional'), where, 'layer');
      const back = raw['backward_layer'] === undefined || raw['backward_layer'] === null ? null : rnnOnly(nested(raw, 'backward_layer', ctx, 'Bidirectional'), where, 'backward_layer');
      return new Bidirectional({ name: a['name'] as string, trainable: a['trainable'] as boolean, layer, backwardLayer: back, mergeMode: a['mergeMode'] as never });
    },
  },
  TimeDistributed: {
    keys: ['layer'],
    create(a, ctx, raw) {
      const inner = nested(raw, 'layer', ctx, 'TimeDistributed');
      if (!(inner instanceof Layer)) throw new MasqueError('INVALID_CONFIG', `Keras config of TimeDistributed '${String(raw['name'])}': 'layer' is not a layer.`);
      return new TimeDistributed({ name: a['name'] as string, trainable: a['trainable'] as boolean, layer: inner });
    },
  },
};

registerKerasLayers(entries);
