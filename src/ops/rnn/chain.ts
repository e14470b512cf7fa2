/**
 * A stack of recurrent cells over a masked sequence, run cell by cell.
 *
 * Keras's StackedRNNCells runs every cell at each step, and a masked step
 * carries the states of every cell. Running the first cell over the whole
 * sequence, then the second over the first one's output sequence, and so
 * on, with the same mask, gives the same numbers: at a valid step each cell
 * sees exactly the input it would see in the stack, and at a masked step
 * each cell ignores its input and carries its states, whatever the cell
 * below output there. Only the last cell's masked outputs are visible, so
 * `zeroOutputForMask` and `returnSequences` apply to it alone. With
 * `goBackwards` the first cell runs backwards and returns its sequence in
 * processing order; the others run forwards over it with the mask reversed
 * the same way.
 *
 * So each built-in cell runs as one call of the fused kernel
 * (`rnnSequence`) over the whole sequence, and a custom cell runs in the
 * per-step loop (`rnnStepLoop`).
 */
import { tf } from '../../runtime/tfjs.js';
import { rnnSequence, type RnnSequenceArgs } from './index.js';
import { rnnStepLoop, type CellStepFn } from './step_loop.js';

/** A built-in cell: its `rnnSequence` weights, initial states and dropout masks. */
export interface FusedStage {
  fused: Pick<RnnSequenceArgs, 'kind' | 'kernel' | 'recurrentKernel' | 'bias' | 'resetAfter' | 'activation' | 'recurrentActivation' | 'initialStates' | 'inputDropoutMask' | 'recurrentDropoutMask'>;
}

/** Any other cell: its step function, initial states (flat), output size, the state that starts the output, and name for messages. */
export interface StepStage {
  step: CellStepFn;
  initialStates: tf.Tensor[];
  outputSize: number;
  outputStateIndex?: number;
  where: string;
}

export type ChainStage = FusedStage | StepStage;

export interface RnnChainArgs {
  /** [B, T, F] float32, T >= 1. */
  inputs: tf.Tensor3D;
  /** bool [B, T] or null. */
  mask: tf.Tensor2D | null;
  goBackwards: boolean;
  zeroOutputForMask: boolean;
  returnSequences: boolean;
  /** The cells, bottom first (at least one). */
  stages: ChainStage[];
}

/** A bool [B, T] mask reversed along time (through int32: tfjs-wasm 4.22's Reverse writes out of bounds on bool tensors). */
function reverseMask(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.cast(tf.reverse(tf.cast(mask, 'int32'), 1), 'bool');
}

/** Runs the cells in turn; returns the last cell's output and every cell's final states. */
export function rnnChain(a: RnnChainArgs): { output: tf.Tensor; states: tf.Tensor[][] } {
  return tf.tidy(() => {
    let seq: tf.Tensor3D = a.inputs;
    let mask = a.mask;
    let backwards = a.goBackwards;
    let output: tf.Tensor = seq;
    const states: tf.Tensor[][] = [];
    a.stages.forEach((stage, i) => {
      const last = i === a.stages.length - 1;
      const common = {
        inputs: seq,
        mask,
        goBackwards: backwards,
        zeroOutputForMask: last && a.zeroOutputForMask,
        returnSequences: !last || a.returnSequences,
      };
      const r = 'fused' in stage ? rnnSequence({ ...stage.fused, ...common, implementation: 'auto' }) : rnnStepLoop({ ...stage, ...common });
      states.push(r.states);
      output = r.output;
      seq = r.output as tf.Tensor3D;
      if (backwards && !last) {
        // Later cells read the sequence in processing order.
        backwards = false;
        if (mask !== null) mask = reverseMask(mask);
      }
    });
    return { output, states };
  });
}
