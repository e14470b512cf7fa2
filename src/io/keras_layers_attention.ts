/**
 * Keras import entries for the attention, pooling, merging, softmax,
 * convolution and 1-D reshaping layers, and for the Keras operations
 * (NotEqual, Any, ...) that Functional configs record as nodes.
 */
import { MasqueError } from '../errors.js';
import { registerKerasLayers, type AnyLayer, type KerasLayerEntry } from './keras_layers.js';
import { Attention } from '../layers/attention/attention.js';
import { MultiHeadAttention } from '../layers/attention/multi_head_attention.js';
import { GlobalAveragePooling1D } from '../layers/pooling/global_average_pooling1d.js';
import { GlobalMaxPooling1D } from '../layers/pooling/global_max_pooling1d.js';
import { AveragePooling1D } from '../layers/pooling/average_pooling1d.js';
import { MaxPooling1D } from '../layers/pooling/max_pooling1d.js';
import { Add } from '../layers/merging/add.js';
import { Subtract } from '../layers/merging/subtract.js';
import { Multiply } from '../layers/merging/multiply.js';
import { Average } from '../layers/merging/average.js';
import { Maximum } from '../layers/merging/maximum.js';
import { Minimum } from '../layers/merging/minimum.js';
import { Concatenate } from '../layers/merging/concatenate.js';
import { Dot } from '../layers/merging/dot.js';
import { All, Any, Equal, NotEqual } from '../layers/merging/keras_ops.js';
import { Softmax } from '../layers/activations/softmax.js';
import { Conv1D } from '../layers/convolutional/conv1d.js';
import { Cropping1D } from '../layers/reshaping/cropping1d.js';
import { ZeroPadding1D } from '../layers/reshaping/zero_padding1d.js';

function simple(keys: string[], make: (a: never) => AnyLayer): KerasLayerEntry {
  return { keys, create: (a) => make(a as never) };
}

const pooling1d = ['poolSize', 'strides', 'padding', 'dataFormat'];
const globalPooling = ['dataFormat', 'keepdims'];

registerKerasLayers({
  Attention: simple(['useScale', 'scoreMode', 'dropout', 'seed'], (a) => new Attention(a)),
  MultiHeadAttention: simple(
    ['numHeads', 'keyDim', 'valueDim', 'dropout', 'useBias', 'useGate', 'outputShape', 'attentionAxes', 'slidingWindow', 'kernelInitializer', 'biasInitializer', 'seed', 'flashAttention'],
    (a) => {
      const args = a as Record<string, unknown>;
      if (args['flashAttention'] === true) throw new MasqueError('UNSUPPORTED_CONFIG', `MultiHeadAttention '${String(args['name'])}': flash_attention=true is not supported.`);
      delete args['flashAttention'];
      return new MultiHeadAttention(args as never);
    },
  ),
  GlobalAveragePooling1D: simple(globalPooling, (a) => new GlobalAveragePooling1D(a)),
  GlobalMaxPooling1D: simple(globalPooling, (a) => new GlobalMaxPooling1D(a)),
  AveragePooling1D: simple(pooling1d, (a) => new AveragePooling1D(a)),
  MaxPooling1D: simple(pooling1d, (a) => new MaxPooling1D(a)),
  Add: simple([], (a) => new Add(a)),
  Subtract: simple([], (a) => new Subtract(a)),
  Multiply: simple([], (a) => new Multiply(a)),
  Average: simple([], (a) => new Average(a)),
  Maximum: simple([], (a) => new Maximum(a)),
  Minimum: simple([], (a) => new Minimum(a)),
  Concatenate: simple(['axis'], (a) => new Concatenate(a)),
  Dot: simple(['axes', 'normalize'], (a) => new Dot(a)),
  Softmax: simple(['axis'], (a) => new Softmax(a)),
  Conv1D: simple(
    ['filters', 'kernelSize', 'strides', 'padding', 'dataFormat', 'dilationRate', 'groups', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer'],
    (a) => new Conv1D(a),
  ),
  Cropping1D: simple(['cropping'], (a) => new Cropping1D(a)),
  ZeroPadding1D: simple(['padding', 'dataFormat'], (a) => new ZeroPadding1D(a)),
  NotEqual: simple([], (a) => new NotEqual(a)),
  Equal: simple([], (a) => new Equal(a)),
  Any: simple(['axis', 'keepdims'], (a) => new Any(a)),
  All: simple(['axis', 'keepdims'], (a) => new All(a)),
});
