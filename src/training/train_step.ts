/**
 * One batch of work: `trainStep` (forward pass, loss, gradients, one
 * optimizer update, metric updates) and `evalStep` (forward pass, loss,
 * metric updates). Losses are masked: an output's mask weighs its loss and
 * metrics, and combines with per-sample weights. Every tensor made here is
 * freed before returning, also when the step throws.
 */
import { tf } from '../runtime/tfjs.js';
import { disposeAbandonedTape } from '../runtime/internals.js';
import { MasqueError } from '../errors.js';
import { getMask } from '../engine/masks.js';
import { collectLosses, withTraining } from '../engine/context.js';
import type { LayerWeight } from '../engine/layer.js';
import { computeLoss } from './losses.js';
import type { Compiled } from './compile.js';
import type { Batch } from './data_adapter.js';
import { DisposeScope, withScope } from './dispose_scope.js';
import { nonFiniteLossError } from './batch_check.js';
import type { TrainableModel } from './trainer.js';

/** What a step uses of the model. */
export type StepModel = Pick<TrainableModel, 'name' | 'inputs' | 'built' | 'trainableWeights' | 'apply' | 'regularizationLosses'>;

/** Builds a model that is not built yet (a Sequential without an input shape) by calling it on batch `b`. */
export function ensureBuilt(model: StepModel, b: Batch): void {
  if (!model.built) tf.dispose(forward(model, b.x, false));
}

/** One optimizer step on batch `b`; returns the batch loss. `where` names the caller in errors. */
export function trainStep(model: StepModel, c: Compiled, b: Batch, where: string): number {
  // A Sequential without an input shape builds on its first call.
  ensureBuilt(model, b);
  const weights = model.trainableWeights;
  if (weights.length === 0) throw new MasqueError('INVALID_ARGUMENT', `${where}: model '${model.name}' has no trainable weights.`);
  return withScope((scope) => {
    let outs: tf.Tensor[] = [];
    const parts: tf.Tensor[] = [];
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      result = tf.variableGrads(() => {
        const { result: fwd, losses } = collectLosses(() => forward(model, b.x, true));
        outs = scope.trackAll(fwd.map((t) => tf.keep(t)));
        return totalLoss(model, c, b, outs, parts, scope, scope.trackAll(losses));
      }, weights.map((w) => w.variable));
    } catch (e) {
      disposeAbandonedTape();
      throw e;
    }
    const { value, grads } = result;
    scope.track(value);
    scope.trackAll(Object.values(grads));
    const loss = value.dataSync()[0]!;
    if (!Number.isFinite(loss)) throw nonFiniteLossError(loss, b, outs, where);
    c.optimizer.applyGradients(weights.map((w) => ({ variable: w.variable, gradient: grads[w.variable.name] ?? null, path: w.path })));
    applyConstraints(weights);
    updateMetrics(c, b, outs, loss, parts);
    return loss;
  });
}

/** Loss and metric updates on batch `b`, without training. */
export function evalStep(model: StepModel, c: Compiled, b: Batch): void {
  withScope((scope) => {
    const { result: fwd, losses } = collectLosses(() => forward(model, b.x, false));
    const outs = scope.trackAll(fwd);
    const parts: tf.Tensor[] = [];
    const loss = scope.track(tf.tidy(() => totalLoss(model, c, b, outs, parts, scope, scope.trackAll(losses))));
    updateMetrics(c, b, outs, loss.dataSync()[0]!, parts);
  });
}

/** Forward pass; returns one tensor per output (masks attached). */
function forward(model: StepModel, x: tf.Tensor[], training: boolean): tf.Tensor[] {
  const input = model.inputs.length === 1 ? x[0]! : x;
  const out = withTraining(training, () => model.apply(input, { training })) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/** Keras's constraints: each constrained weight projected back after the optimizer step. */
function applyConstraints(weights: readonly LayerWeight[]): void {
  for (const w of weights) if (w.constraint !== null) tf.tidy(() => w.variable.assign(w.constraint!(w.variable)));
}

/**
 * The weighted sum of the per-output losses, plus the layers' own losses
 * (`layerLosses`, recorded during the forward pass) and the weight
 * regularization penalties, as Keras's `compute_loss` adds `model.losses`;
 * with several outputs, `parts` receives each output's (unweighted) loss,
 * kept and tracked by `scope`.
 */
function totalLoss(model: StepModel, c: Compiled, b: Batch, outs: tf.Tensor[], parts: tf.Tensor[], scope: DisposeScope, layerLosses: tf.Tensor[]): tf.Scalar {
  if (b.y.length !== outs.length) {
    throw new MasqueError('INVALID_INPUT', `model '${model.name}' has ${outs.length} outputs but received ${b.y.length} targets.`);
  }
  let total: tf.Tensor | null = null;
  outs.forEach((yPred, k) => {
    const raw = computeLoss(c.losses[k]!, b.y[k]!, yPred, { mask: getMask(yPred), sampleWeight: b.sampleWeight });
    // A loss object with reduction 'none' gives per-entry values; Keras's compiled loss averages them.
    const l = raw.rank > 0 ? tf.mean(raw) : raw;
    if (outs.length > 1) parts.push(scope.track(tf.keep(l)));
    const w = c.lossWeights[k]!;
    const term = w === 1 ? l : tf.mul(l, w);
    total = total === null ? term : tf.add(total, term);
  });
  const extra = [...layerLosses, ...(model.regularizationLosses?.() ?? [])];
  for (const e of extra) total = total === null ? e : tf.add(total, e);
  return total as unknown as tf.Scalar;
}

function updateMetrics(c: Compiled, b: Batch, outs: tf.Tensor[], loss: number, parts: tf.Tensor[]): void {
  // Keras weighs each batch's loss by its size.
  c.lossTracker.add(loss, b.size);
  parts.forEach((p, k) => c.outputLossTrackers[k]!.add(p.dataSync()[0]!, b.size));
  tf.tidy(() => {
    c.metrics.forEach((ms, k) => {
      for (const { metric, weighted } of ms) metric.updateState(b.y[k]!, outs[k]!, { mask: getMask(outs[k]!), sampleWeight: weighted ? b.sampleWeight : null });
    });
  });
}
