/** Identity: returns its input unchanged, with its mask (Keras's Identity layer). */
import type { tf } from '../../runtime/tfjs.js';
import type { Filled, OptionsOf } from '../../engine/options.js';
import type { BaseLayerArgs } from '../../engine/types.js';
import { Elementwise } from './activation.js';

export type IdentityArgs = BaseLayerArgs;

export class Identity extends Elementwise {
  static override readonly className = 'Identity';
  static override readonly options = {} satisfies OptionsOf<Omit<IdentityArgs, keyof BaseLayerArgs>>;
  declare readonly args: Filled<Omit<IdentityArgs, keyof BaseLayerArgs>>;
  /** Integer and bool inputs keep their dtype (Keras's Identity returns its input as is). */
  static override readonly floatInputs = false;

  constructor(args: IdentityArgs = {}) {
    super(args);
    this.supportsMasking = true;
  }

  call(x: tf.Tensor): tf.Tensor {
    return x;
  }
}
