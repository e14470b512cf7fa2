/**
 * Custom recurrent cells written with Masque's cell protocol: each extends
 * AbstractRNNCell, declares `stateSize` (and `outputSize` when the output is
 * not the first state), creates its weights in `build` and takes one step in
 * `call(x, states)`, returning `[output, newStates]`. They are the
 * TypeScript twins of the Python cells in scripts/gen_rnncell_custom.py
 * (same weights, same names), run by `new RNN({ cell })`.
 */
import { tf, AbstractRNNCell, type CellOutput, type Shape } from '../src/index.js';

/** The cell of Keras's RNN docstring: output = x W + h U, and the output is the new state. */
export class MinimalRNNCell extends AbstractRNNCell {
  readonly stateSize: number;
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;

  constructor(override readonly args: { units: number; name?: string }) {
    super(args, 'MinimalRNNCell');
    this.stateSize = args.units;
  }

  override build(stepShape: Shape): void {
    this.kernel = this.addWeight('kernel', [stepShape[1]!, this.args.units], { initializer: 'uniform' });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.args.units, this.args.units], { initializer: 'uniform' });
  }

  call(x: tf.Tensor, [prev]: tf.Tensor[]): CellOutput {
    const output = tf.add(tf.matMul(x, this.kernel), tf.matMul(prev!, this.recurrentKernel));
    return [output, [output]];
  }
}

/** An LSTM whose gates also read the carry (peepholes): states [h, c], gates i, f, c, o. */
export class PeepholeLSTMCell extends AbstractRNNCell {
  readonly stateSize: number[];
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;
  peephole!: tf.Variable;
  bias!: tf.Variable;

  constructor(override readonly args: { units: number; name?: string }) {
    super(args, 'PeepholeLSTMCell');
    this.stateSize = [args.units, args.units];
  }

  override build(stepShape: Shape): void {
    const u = this.args.units;
    this.kernel = this.addWeight('kernel', [stepShape[1]!, 4 * u]);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 4 * u]);
    this.peephole = this.addWeight('peephole', [3 * u], { initializer: 'zeros' });
    this.bias = this.addWeight('bias', [4 * u], { initializer: 'zeros' });
  }

  call(x: tf.Tensor, [h, c]: tf.Tensor[]): CellOutput {
    const z = tf.add(tf.add(tf.matMul(x, this.kernel), tf.matMul(h!, this.recurrentKernel)), this.bias);
    const [zi, zf, zc, zo] = tf.split(z, 4, -1);
    const [pi, pf, po] = tf.split(this.peephole, 3);
    const i = tf.sigmoid(tf.add(zi!, tf.mul(pi!, c!)));
    const f = tf.sigmoid(tf.add(zf!, tf.mul(pf!, c!)));
    const c2 = tf.add(tf.mul(f, c!), tf.mul(i, tf.tanh(zc!)));
    const o = tf.sigmoid(tf.add(zo!, tf.mul(po!, c2)));
    const h2 = tf.mul(o, tf.tanh(c2));
    return [h2, [h2, c2]];
  }
}

/** A tanh RNN whose output is its state projected to `outputUnits`: the output is not the state. */
export class ProjectedRNNCell extends AbstractRNNCell {
  readonly stateSize: number;
  readonly outputSize: number;
  kernel!: tf.Variable;
  recurrentKernel!: tf.Variable;
  projection!: tf.Variable;

  constructor(override readonly args: { units: number; outputUnits: number; name?: string }) {
    super(args, 'ProjectedRNNCell');
    this.stateSize = args.units;
    this.outputSize = args.outputUnits;
  }

  override build(stepShape: Shape): void {
    const u = this.args.units;
    this.kernel = this.addWeight('kernel', [stepShape[1]!, u]);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, u]);
    this.projection = this.addWeight('projection', [u, this.args.outputUnits]);
  }

  call(x: tf.Tensor, [prev]: tf.Tensor[]): CellOutput {
    const h = tf.tanh(tf.add(tf.matMul(x, this.kernel), tf.matMul(prev!, this.recurrentKernel)));
    return [tf.matMul(h, this.projection), [h]];
  }
}
