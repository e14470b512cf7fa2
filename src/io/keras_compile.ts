/**
 * A model's compile settings and optimizer state in `.keras` files, as
 * Keras 3.15.1 writes them (keras/src/trainers/trainer.py `get_compile_config`,
 * `compile_from_config`; keras/src/optimizers/base_optimizer.py
 * `save_own_variables`):
 *
 * - config.json gets `compile_config`: `{optimizer, loss, loss_weights,
 *   metrics, weighted_metrics, run_eagerly, steps_per_execution,
 *   jit_compile}`. The optimizer is serialized with its full config (the
 *   learning rate read back from its float32 variable); a loss object as
 *   `{module: "keras.losses", class_name, config}`; names stay names.
 * - model.weights.h5 gets the group `optimizer/vars` (attribute `name`: the
 *   optimizer's name) with datasets "0", "1", ... in the optimizer's
 *   variable order: iteration (int32), learning_rate, then the slots.
 *
 * Loading compiles the model from `compile_config`, builds the optimizer on
 * the trainable weights (Keras's compile_from_config), and restores its
 * variables, so the next step is the one the saving process would take.
 *
 * Not every compile can be written: a loss given as a function or custom
 * object, a Metric object without a Keras class (AUC, F-scores, custom
 * metrics), a learning-rate schedule, or a custom optimizer. Such a model is
 * saved without compile settings and optimizer state (it loads uncompiled),
 * with a warning naming the part. The optimizers, losses and metrics
 * themselves are translated in keras_training_objects.ts.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe } from '../errors.js';
import { warn } from '../engine/mask_policy.js';
import { Model } from '../models/functional.js';
import { Sequential } from '../models/sequential.js';
import type { AnyLayer } from './keras_registry.js';
import type { CompileArgs } from '../training/compile.js';
import type { Optimizer } from '../training/optimizers.js';
import type { H5Tree, VarArray } from './h5_weights.js';
import { isObj, lossFromKeras, lossToKeras, metricsFromKeras, metricsToKeras, optimizerFromKeras, optimizerToKeras, Unwritable, type Obj } from './keras_training_objects.js';

const isPlain = (v: unknown): v is Obj => isObj(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/**
 * Keras's `compile_config` for a compiled model, or null when the model is
 * not compiled or its compile settings cannot be written (a warning then
 * names the part; the file loads uncompiled, as a Keras file without them).
 */
export function compileConfigToKeras(model: Model): Obj | null {
  const args = model.compileArgs;
  const optimizer = model.optimizer;
  if (args === null || optimizer === null) return null;
  const outputs = model.outputs.map((o) => o.node?.layer.name ?? '');
  try {
    let loss: unknown;
    const spec = args.loss as unknown;
    if (Array.isArray(spec)) loss = spec.map((l, k) => lossToKeras(l, `the loss of output ${k}`));
    else if (isPlain(spec) && Object.keys(spec).length > 0 && Object.keys(spec).every((k) => outputs.includes(k))) {
      loss = Object.fromEntries(Object.entries(spec).map(([k, l]) => [k, lossToKeras(l, `the loss of output '${k}'`)]));
    } else loss = lossToKeras(spec, 'the loss');
    const lw = args.lossWeights;
    return {
      optimizer: optimizerToKeras(optimizer),
      loss,
      loss_weights: lw === undefined ? null : typeof lw === 'number' ? [lw] : Array.isArray(lw) ? [...lw] : { ...lw },
      metrics: metricsToKeras(args.metrics, 'metrics'),
      weighted_metrics: metricsToKeras(args.weightedMetrics, 'weightedMetrics'),
      run_eagerly: false,
      steps_per_execution: 1,
      jit_compile: true,
    };
  } catch (e) {
    if (!(e instanceof Unwritable)) throw e;
    warn(`saveModel: model '${model.name}' is saved without its compile settings and optimizer state (it will load uncompiled): ${e.message}.`);
    return null;
  }
}

/** The optimizer's variables as Keras's `optimizer` group of model.weights.h5; `order`: the model's trainable variables in Keras's order. */
export function optimizerToH5(optimizer: Optimizer, order: readonly tf.Variable[]): H5Tree {
  const vars: VarArray[] = optimizer.variablesInOrder(order).map(({ variable }) => {
    const values = variable.dataSync();
    return variable.dtype === 'int32'
      ? { shape: [...variable.shape], dtype: 'int32', data: Int32Array.from(values as Int32Array) }
      : { shape: [...variable.shape], dtype: 'float32', data: Float32Array.from(values as Float32Array) };
  });
  return { groups: {}, vars, varsAttrs: { name: optimizer.name } };
}

/** CompileArgs from Keras's `compile_config`; UNSUPPORTED_CONFIG names the part Masque cannot honour. */
export function compileArgsFromKeras(config: unknown, where: string): CompileArgs {
  if (!isObj(config)) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: compile_config must be an object; received ${describe(config)}.`);
  const loss = config['loss'];
  if (loss === null || loss === undefined) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: the model was compiled without a loss, which Masque's compile requires.`);
  const args: CompileArgs = {
    optimizer: optimizerFromKeras(config['optimizer'] ?? 'rmsprop', where),
    loss: Array.isArray(loss)
      ? loss.map((l) => lossFromKeras(l, where))
      : isObj(loss) && !('class_name' in loss)
        ? Object.fromEntries(Object.entries(loss).map(([k, l]) => [k, lossFromKeras(l, where)]))
        : lossFromKeras(loss, where),
  };
  const metrics = metricsFromKeras(config['metrics'], where);
  const weighted = metricsFromKeras(config['weighted_metrics'], where);
  if (metrics !== undefined) args.metrics = metrics;
  if (weighted !== undefined) args.weightedMetrics = weighted;
  const lw = config['loss_weights'];
  if (lw !== null && lw !== undefined) args.lossWeights = lw as CompileArgs['lossWeights'];
  return args;
}

/**
 * Compiles `model` from Keras's `compile_config`, builds the optimizer on
 * the trainable weights and restores its variables from the weights file's
 * `optimizer` group, whose slots follow `order` (the trainable variables in
 * Keras's order). A file whose optimizer variables do not
 * match in number is loaded without them, with a warning, as Keras does.
 */
export function compileFromKeras(model: Model, config: unknown, tree: H5Tree | undefined, order: readonly tf.Variable[], where: string): void {
  const args = compileArgsFromKeras(config, where);
  try {
    model.compile(args);
  } catch (e) {
    if (e instanceof MasqueError) throw new MasqueError('UNSUPPORTED_CONFIG', `${where}: Masque cannot compile the model from it: ${e.message}`, { cause: e });
    throw e;
  }
  const opt = model.optimizer!;
  const weights = model.trainableWeights;
  if (model.built && weights.length > 0) opt.build(weights.map((w) => w.variable), weights.map((w) => w.path));
  restoreOptimizer(model, tree, order, where);
}

/**
 * Restores a compiled model's optimizer variables from a weights file's
 * `optimizer` group (slots in `order`). A file whose optimizer variables do
 * not match in number is skipped, with a warning, as Keras does. Shapes are
 * checked before anything is set.
 */
export function restoreOptimizer(model: Model, tree: H5Tree | undefined, order: readonly tf.Variable[], where: string): void {
  prepareOptimizerState(model, tree, order, where)();
}

/**
 * Checks a weights file's optimizer state against the model's optimizer
 * (counts and shapes, as restoreOptimizer) and returns the function that
 * sets it; nothing is set before that call. A count that does not match
 * warns (as Keras does) and gives a function that sets nothing.
 */
export function prepareOptimizerState(model: Model, tree: H5Tree | undefined, order: readonly tf.Variable[], where: string): () => void {
  const opt = model.optimizer!;
  const saved = tree?.vars ?? [];
  const nothing = (): void => undefined;
  if (saved.length === 0) return nothing;
  const vars = opt.variablesInOrder(order);
  if (saved.length !== vars.length) {
    const untrained = saved.length <= 2 && Number(saved[0]?.data[0] ?? 0) === 0;
    if (!untrained) warn(`${where}: skipped the optimizer state: optimizer '${opt.name}' has ${vars.length} variables but the file has ${saved.length} (as Keras, the model loads compiled with a fresh optimizer).`);
    return nothing;
  }
  vars.forEach(({ path, variable }, i) => {
    const a = saved[i]!;
    if (a.shape.join() !== variable.shape.join()) {
      throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${where}: 'optimizer/vars/${i}' has shape [${a.shape}] but the optimizer variable '${path}' has shape [${variable.shape}].`);
    }
  });
  return () => {
    // setWeights takes the values in variables() order.
    const index = new Map(vars.map((v, i) => [v.variable, i]));
    const values = opt.variables().map(({ variable }) => {
      const a = saved[index.get(variable)!]!;
      return tf.tensor(Array.from(a.data as ArrayLike<number | bigint>, Number), a.shape, variable.dtype);
    });
    try {
      opt.setWeights(values);
    } finally {
      for (const v of values) v.dispose();
    }
  };
}

/** The layers of a model in the order its file lists them. */
export type LayerOrder = (model: Model) => AnyLayer[];

/**
 * The layers a model's weights file holds under `layers/`, in Keras's
 * order, which names their groups (`dense`, `dense_1`, ... by class), for a
 * model read from a file: its graph's layers (Graph orders them as Keras
 * does, the file's op nodes included); a Sequential's as added, without the
 * InputLayer. Keras's legacy HDF5 loader walks the same list.
 */
export const loadedOrder: LayerOrder = (model) => (model instanceof Sequential ? model.sequentialLayers : model.layers);

/** The model's trainable variables in Keras's `trainable_variables` order (its layers in `order`, nested models recursing); the optimizer's slots follow it in files. */
export function kerasTrainableOrder(model: Model, order: LayerOrder): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const l of order(model)) {
    const vars = l instanceof Model ? kerasTrainableOrder(l, order) : l.trainableWeights.map((w) => w.variable);
    for (const v of vars) if (!out.includes(v)) out.push(v);
  }
  return out;
}

