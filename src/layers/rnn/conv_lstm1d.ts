/**
 * ConvLSTM1D: an LSTM whose input and recurrent transformations are 1-D
 * convolutions, as Keras 3.15.1's `keras.layers.ConvLSTM1D`
 * (keras/src/layers/rnn/conv_lstm.py): input [batch, time, length,
 * channels] (channels_first: [batch, time, channels, length]), state h and
 * c [batch, length', filters], where length' is the input convolution's
 * output length (`strides`, `padding` 'valid' or 'same', `dilationRate`);
 * the recurrent convolution is 'same' with stride 1. Gates i, f, c, o in
 * that order along the kernels' last axis, weights `kernel` [k, channels,
 * 4·filters], `recurrent_kernel` [k, filters, 4·filters] and `bias`
 * [4·filters] in a sub-layer named `conv_lstm_cell`, as Keras saves them.
 *
 * Masks ([batch, time]) follow Keras's recurrent rules (docs/rnn.md): a
 * masked step carries h and c over and its output repeats the previous
 * output (zeros with `zeroOutputForMask`); with `returnSequences` the output
 * keeps the mask. Masked steps are zeroed before the input convolution, so
 * NaN in the padding reaches no output and no gradient. `goBackwards`
 * returns the sequence in processing order, as Keras does.
 *
 * `dropout` and `recurrentDropout` act in training with one mask per
 * sequence (Keras draws its own; the keep probability and scaling are the
 * same). `stateful: true` carries h and c (in the layer's data format) from
 * call to call, as for the other recurrent layers (docs/rnn.md).
 */
import { tf, toBool } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { StatefulRecurrentLayer } from './stateful_layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { firstMask, oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, MaskArg, Shape, SpecArgs, TensorSpec } from '../../engine/types.js';
import { getInitializer, type InitializerSpec } from '../../engine/initializers.js';
import { getActivation, type ActivationSpec } from '../../ops/activations.js';
import { conv1d } from '../../ops/conv_ops.js';
import { MasqueError, describe, formatShape } from '../../errors.js';
import { dataFormatOption, type DataFormat } from '../pooling/base_global_pooling1d.js';
import { oneIntOption, windowOutputLength } from '../pooling/base_pooling1d.js';
import { RECURRENT_CALL_ARGS, RECURRENT_OUTPUT_OPTIONS, type RNNCallArgs, type RecurrentOutputArgs } from './rnn_base.js';
import { checkMaskShape } from './rnn_checks.js';

export interface ConvLSTM1DArgs extends BaseLayerArgs, RecurrentOutputArgs {
  filters: number;
  kernelSize: number | [number];
  strides?: number | [number];
  padding?: 'valid' | 'same';
  dataFormat?: DataFormat;
  dilationRate?: number | [number];
  activation?: ActivationSpec;
  recurrentActivation?: ActivationSpec;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  /** Add 1 to the forget gate's bias at initialization (default true). */
  unitForgetBias?: boolean;
  dropout?: number;
  recurrentDropout?: number;
  seed?: number | null;
}

type Own = Omit<ConvLSTM1DArgs, keyof BaseLayerArgs>;
type FilledOwn = Filled<Own> & { kernelSize: number; strides: number; dilationRate: number };

/** The weights of a ConvLSTM1D, in the sub-layer Keras names `conv_lstm_cell`. */
class ConvLSTMCell extends Layer {
  static override readonly className = 'ConvLSTMCell';
  static override readonly options = null;
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;
  bias: tf.Variable | null = null;
  constructor(
    private readonly spec: { kernelSize: number; filters: number; useBias: boolean; unitForgetBias: boolean; kernelInitializer: InitializerSpec; recurrentInitializer: InitializerSpec; biasInitializer: InitializerSpec },
    trainable: boolean,
  ) {
    super({ name: 'conv_lstm_cell', trainable });
  }
  override build(inputShape: Shape): void {
    const { kernelSize: k, filters: f } = this.spec;
    this.kernel = this.addWeight('kernel', [k, inputShape[inputShape.length - 1]!, 4 * f], { initializer: this.spec.kernelInitializer });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [k, f, 4 * f], { initializer: this.spec.recurrentInitializer });
    if (this.spec.useBias) {
      const init = getInitializer(this.spec.biasInitializer, `${this.name}.bias`);
      // Keras's unit_forget_bias: the forget gate's quarter starts at ones.
      const forgetOnes = (_s: number[], d: tf.DataType): tf.Tensor => tf.tidy(() => tf.concat([init([f], d), tf.ones([f], d), init([2 * f], d)]));
      this.bias = this.addWeight('bias', [4 * f], { initializer: this.spec.unitForgetBias ? forgetOnes : this.spec.biasInitializer });
    }
  }
  call(): tf.Tensor {
    throw new MasqueError('INVALID_ARGUMENT', `ConvLSTMCell '${this.name}' holds ConvLSTM1D's weights; it is not called on its own.`);
  }
}

export class ConvLSTM1D extends StatefulRecurrentLayer<boolean> {
  static override readonly className = 'ConvLSTM1D';
  /** The call arguments it takes (Layer.apply refuses others). */
  static readonly callArgNames = RECURRENT_CALL_ARGS;
  static override readonly options = {
    filters: opt.int({ min: 1 }),
    kernelSize: oneIntOption(),
    strides: oneIntOption(1),
    padding: opt.oneOf(['valid', 'same'] as const, 'valid'),
    dataFormat: dataFormatOption(),
    dilationRate: oneIntOption(1),
    activation: opt.activation<ActivationSpec>('tanh'),
    recurrentActivation: opt.activation<ActivationSpec>('sigmoid'),
    useBias: opt.bool(true),
    kernelInitializer: opt.initializer<InitializerSpec>('glorotUniform'),
    recurrentInitializer: opt.initializer<InitializerSpec>('orthogonal'),
    biasInitializer: opt.initializer<InitializerSpec>('zeros'),
    unitForgetBias: opt.bool(true),
    dropout: opt.number({ min: 0, max: 1, default: 0 }),
    recurrentDropout: opt.number({ min: 0, max: 1, default: 0 }),
    seed: opt.seed(),
    ...RECURRENT_OUTPUT_OPTIONS,
  } satisfies OptionsOf<Own>;
  declare readonly args: FilledOwn;
  readonly cell: ConvLSTMCell;
  private dropoutCalls = 0;
  /** length' once built (the states' length). */
  private lOut: number | null = null;

  constructor(args: ConvLSTM1DArgs) {
    super(args);
    const a = this.args;
    getActivation(a.activation, `${this.where} activation`);
    getActivation(a.recurrentActivation, `${this.where} recurrentActivation`);
    if (a.strides > 1 && a.dilationRate > 1) throw new MasqueError('INVALID_ARGUMENT', `${this.where}: strides above 1 and dilationRate above 1 cannot be combined (as in Keras); received strides ${a.strides}, dilationRate ${a.dilationRate}.`);
    this.cell = this.trackLayer(new ConvLSTMCell(a, this.trainable), 'cell');
    this.supportsMasking = true;
    // h and c, in the layer's data format.
    this.initStateful(a.stateful, () => (a.dataFormat === 'channels_first' ? [[a.filters, this.lOut!], [a.filters, this.lOut!]] : [[this.lOut!, a.filters], [this.lOut!, a.filters]]));
  }

  private get where(): string {
    return `ConvLSTM1D '${this.name}'`;
  }
  /** Number of states (h, c). */
  get stateCount(): number {
    return 2;
  }

  /** A new, unbuilt layer with these options changed (Bidirectional uses it). */
  withOptions(overrides: Partial<ConvLSTM1DArgs>): this {
    const Ctor = this.constructor as new (a: ConvLSTM1DArgs) => this;
    return new Ctor({ ...(this.getConfig() as unknown as ConvLSTM1DArgs), ...overrides });
  }

  /** [length, channels] of one step of `shape` (a 4-D input), in channels_last order; raises otherwise. */
  private stepShape(shape: Shape): [number | null, number | null] {
    if (shape.length !== 4) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expected an input of shape [batch, time, length, channels]${this.args.dataFormat === 'channels_first' ? ' (channels_first: [batch, time, channels, length])' : ''}; received ${formatShape(shape)}.`);
    return this.args.dataFormat === 'channels_first' ? [shape[3]!, shape[2]!] : [shape[2]!, shape[3]!];
  }

  /** length' of the input convolution. */
  private outLength(l: number | null): number | null {
    const { kernelSize: k, dilationRate: d, strides: s, padding } = this.args;
    return windowOutputLength(l, d * (k - 1) + 1, s, padding, this.where);
  }

  override build(shapes: Shape | Shape[]): void {
    const inputShape = (Array.isArray(shapes[0]) ? shapes[0] : shapes) as Shape;
    const [l, c] = this.stepShape(inputShape);
    if (l === null || c === null) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: the length and channel axes must be known (as in Keras); received ${formatShape(inputShape)}.`);
    this.lOut = this.outLength(l);
    this.cell.maybeBuild([null, l, c]);
    this.carried?.build(inputShape[0]);
  }

  call(x: tf.Tensor, args: RNNCallArgs): tf.Tensor | tf.Tensor[] {
    const a = this.args;
    const [l, ch] = this.stepShape(x.shape) as [number, number];
    if (ch !== this.cell.kernel.shape[1]) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expected ${this.cell.kernel.shape[1]} channels; received ${formatShape(x.shape)}.`);
    const [b, t] = x.shape as [number, number];
    if (t === 0) throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.where}: expected at least one time step; received ${formatShape(x.shape)}.`);
    const lOut = this.outLength(l)!;
    const f = a.filters;
    const maskIn = Array.isArray(args.mask) ? (args.mask[0] ?? null) : (args.mask ?? null);
    if (maskIn !== null) checkMaskShape(maskIn.shape, [b, t], this.where, describe(maskIn));
    const mask = maskIn === null ? null : toBool(maskIn);
    let xs = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    if (a.dataFormat === 'channels_first') xs = tf.transpose(xs, [0, 1, 3, 2]);
    // Masked steps read as zeros: NaN in the padding reaches no output and no gradient.
    if (mask !== null) xs = tf.where(tf.reshape(mask, [b, t, 1, 1]), xs, tf.zerosLike(xs));
    const training = args.training === true;
    if (training && a.dropout > 0 && a.dropout < 1) xs = tf.mul(xs, tf.expandDims(this.dropoutMask([b, l, ch], a.dropout), 1));
    // Every step's input convolution at once: [b·t, l, ch] -> [b, t, l', 4f].
    let z = conv1d(tf.reshape(xs, [b * t, l, ch]) as tf.Tensor3D, this.cell.kernel as tf.Tensor as tf.Tensor3D, a.strides, a.padding, a.dilationRate);
    if (this.cell.bias !== null) z = tf.add(z, this.cell.bias) as tf.Tensor3D;
    const zx = tf.reshape(z, [b, t, lOut, 4 * f]);
    let [h, c] = this.initial(this.carried === null ? args.initialState : this.carried.initial(b, args.initialState), b, lOut);
    const recMask = training && a.recurrentDropout > 0 && a.recurrentDropout < 1 ? this.dropoutMask([b, lOut, f], a.recurrentDropout) : null;
    const act = getActivation(a.activation, `${this.where} activation`);
    const rec = getActivation(a.recurrentActivation, `${this.where} recurrentActivation`);
    const outs: tf.Tensor[] = [];
    // Bidirectional passes its own zeroOutputForMask (Keras forces returnSequences's value on both directions).
    const zeroOutput = args.zeroOutputForMask ?? a.zeroOutputForMask;
    let prev: tf.Tensor = tf.zeros([b, lOut, f]);
    for (let k = 0; k < t; k++) {
      const step = a.goBackwards ? t - 1 - k : k;
      const hr = recMask === null ? h : tf.mul(h, recMask);
      const g = tf.add(tf.squeeze(tf.slice(zx, [0, step, 0, 0], [b, 1, lOut, 4 * f]), [1]), conv1d(hr as tf.Tensor3D, this.cell.recurrentKernel as tf.Tensor as tf.Tensor3D, 1, 'same', 1));
      const [gi, gf, gc, go] = tf.split(g, 4, 2) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const cNew = tf.add(tf.mul(rec(gf), c), tf.mul(rec(gi), act(gc)));
      const hNew = tf.mul(rec(go), act(cNew));
      if (mask === null) {
        h = hNew;
        c = cNew;
        prev = hNew;
      } else {
        const m = tf.reshape(tf.slice(mask, [0, step], [b, 1]), [b, 1, 1]);
        h = tf.where(m, hNew, h);
        c = tf.where(m, cNew, c);
        prev = tf.where(m, hNew, zeroOutput ? tf.zerosLike(hNew) : prev);
      }
      if (a.returnSequences) outs.push(prev);
    }
    let out = a.returnSequences ? tf.stack(outs, 1) : prev;
    if (a.dataFormat === 'channels_first') {
      out = tf.transpose(out, a.returnSequences ? [0, 1, 3, 2] : [0, 2, 1]);
      [h, c] = [tf.transpose(h, [0, 2, 1]), tf.transpose(c, [0, 2, 1])];
    }
    this.carried?.update([h, c]);
    return a.returnState ? [out, h, c] : out;
  }

  /** The initial h and c ([batch, length', filters] each, channels_first transposed to it), or zeros. */
  private initial(given: RNNCallArgs['initialState'], b: number, lOut: number): [tf.Tensor, tf.Tensor] {
    const f = this.args.filters;
    if (given === undefined || given === null) return [tf.zeros([b, lOut, f]), tf.zeros([b, lOut, f])];
    const list = Array.isArray(given) ? given : [given];
    const want = this.args.dataFormat === 'channels_first' ? [b, f, lOut] : [b, lOut, f];
    if (list.length !== 2 || list.some((s) => !(s instanceof tf.Tensor) || s.shape.length !== 3 || s.shape.some((d, i) => d !== want[i]))) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.where}: initialState must be 2 tensors (h, c) of shape ${formatShape(want)}; received ${describe(list)}.`);
    }
    const asF = (s: tf.Tensor) => (s.dtype === 'float32' ? s : tf.cast(s, 'float32'));
    const [h, c] = list.map(asF) as [tf.Tensor, tf.Tensor];
    return this.args.dataFormat === 'channels_first' ? [tf.transpose(h, [0, 2, 1]), tf.transpose(c, [0, 2, 1])] : [h, c];
  }

  /** Keras's dropout mask: kept with probability 1 - rate, scaled by 1 / (1 - rate). */
  private dropoutMask(shape: number[], rate: number): tf.Tensor {
    const seed = this.args.seed === null ? undefined : this.args.seed + this.dropoutCalls++;
    return tf.div(tf.cast(tf.greaterEqual(tf.randomUniform(shape, 0, 1, 'float32', seed), rate), 'float32'), 1 - rate);
  }

  /** The input mask with `returnSequences`, else none; states carry none. */
  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
    const out = this.args.returnSequences ? m : null;
    return this.args.returnState ? [out, null, null] : out;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<RNNCallArgs>): TensorSpec | TensorSpec[] {
    const x = oneSpec(inputs, this.where);
    const [l] = this.stepShape(x.shape);
    const mask = firstMask(args.mask);
    if (mask !== null) checkMaskShape(mask.shape, x.shape.slice(0, 2), this.where);
    const lOut = this.outLength(l);
    const f = this.args.filters;
    const step: Shape = this.args.dataFormat === 'channels_first' ? [f, lOut] : [lOut, f];
    const [b, t] = x.shape;
    const out: TensorSpec = this.args.returnSequences ? { shape: [b!, t!, ...step], dtype: 'float32', mask } : { shape: [b!, ...step], dtype: 'float32', mask: null };
    if (!this.args.returnState) return out;
    const st: TensorSpec = { shape: [b!, ...step], dtype: 'float32', mask: null };
    return [out, st, { ...st }];
  }
}
