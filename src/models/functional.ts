/**
 * Functional models: `new Model({ inputs, outputs })` holds a `Graph` of
 * layer calls and is itself a layer. Its `call` runs the graph through the
 * same `apply` as a direct call and returns the outputs with their masks
 * (`withMasks`); its `computeOutputSpec` propagates specs through the graph,
 * so a model applied to new symbolic inputs (nested in another model) runs
 * nothing. Training delegates to `src/training`, saving to `src/io` through
 * the saver that the package entry registers.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { Layer, type LayerWeight, type MaskedOutputs, setWeightList, withMasks } from '../engine/layer.js';
import type { SymbolicTensor } from '../engine/symbolic.js';
import { attachMask, cloneMask, getMask } from '../engine/masks.js';
import { checkPolicy, getMaskPolicy, withMaskPolicy, type MaskPolicy } from '../engine/mask_policy.js';
import { withTraining } from '../engine/context.js';
import { opt, readOptions } from '../engine/options.js';
import type { BaseLayerArgs, CallArgs, MaskSpec, Shape, SpecArgs, TensorSpec } from '../engine/types.js';
import { concatRows, sliceRows, toTensorList, type InputData } from '../data/input_data.js';
import { formatSummary } from './summary.js';
import { Graph, type AnyLayer } from './graph.js';
import { modelSaver } from './saving_port.js';
import { Trainer, refuseReorderingStates, type CompileArgs, type EvaluateArgs, type FitArgs, type TestOnBatchArgs, type TrainOnBatchArgs } from '../training/trainer.js';
import type { Optimizer } from '../training/optimizers.js';
import type { History, Logs } from '../training/callbacks.js';
import { isSequenceDataset, type SequenceDataset } from '../training/data_adapter.js';
import { predictDataset, type PredictDataset } from '../training/predict_dataset.js';

/** Options of every model (`Model` and `Sequential`). */
export interface ModelOptions {
  name?: string;
  trainable?: boolean;
  /** What layers that cannot use a mask do when they receive one inside this model (default: the global policy). */
  maskPolicy?: MaskPolicy;
}

export interface ModelArgs extends ModelOptions {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
}

export interface PredictOptions {
  batchSize?: number;
  /** Accepted for Keras compatibility; predict prints nothing. */
  verbose?: 0 | 1 | 2;
}

const PREDICT_OPTIONS = {
  batchSize: opt.int({ min: 1, default: 32 }),
  verbose: opt.oneOf([0, 1, 2] as const, 0),
};

const MODEL_OPTIONS = {
  name: opt.custom<string | undefined>((v) => v as string, { default: undefined }),
  trainable: opt.bool(true),
  maskPolicy: opt.custom<MaskPolicy | undefined>((v, w) => checkPolicy(v, w), { default: undefined }),
};

/** A functional model: `new Model({ inputs, outputs })`. */
export class Model extends Layer<CallArgs, boolean> {
  static override readonly className: string = 'Functional';
  static override readonly checksInputSpecs = false;
  maskPolicy: MaskPolicy | undefined;
  /** The model's graph; null until a Sequential knows its input. */
  protected graph: Graph | null = null;

  /**
   * `new Model({ inputs, outputs })`. A subclass that sets its graph once
   * its input is known (Sequential) passes `'deferred'` and its options.
   */
  constructor(args: ModelArgs);
  constructor(args: ModelOptions, graph: 'deferred');
  constructor(args: ModelArgs | ModelOptions, graph?: 'deferred') {
    super({ name: args?.name, trainable: args?.trainable });
    const where = `${this.className} '${this.name}'`;
    const { inputs, outputs, ...options } = (args ?? {}) as Partial<ModelArgs>;
    this.maskPolicy = readOptions(MODEL_OPTIONS, options, where)['maskPolicy'] as MaskPolicy | undefined;
    this.supportsMasking = true;
    if (graph !== 'deferred') this.setGraph(new Graph(inputs!, outputs!, where));
  }

  /** Takes `graph` as the model's graph; under the 'error' policy, a node that drops a mask makes the model invalid. */
  protected setGraph(graph: Graph): void {
    const policy = this.maskPolicy ?? getMaskPolicy();
    const dropped = graph.firstDroppedMask();
    if (policy === 'error' && dropped !== null) throw dropped.layer.maskNotSupportedError(dropped.dropsMask!);
    this.graph = graph;
    this.built = true;
  }

  /** The symbolic inputs (empty until the graph is known). */
  get inputs(): SymbolicTensor[] {
    return this.graph?.inputs ?? [];
  }

  get outputs(): SymbolicTensor[] {
    return this.graph?.outputs ?? [];
  }

  /** Layers in graph order (input layers first), as Keras's `model.layers`. */
  get layers(): AnyLayer[] {
    return this.graph?.layers ?? [];
  }

  protected override innerLayers(): Layer<CallArgs, boolean>[] {
    return this.layers as unknown as Layer<CallArgs, boolean>[];
  }

  /**
   * Sets the states every stateful recurrent layer of the model carries
   * (`stateful: true`, nested ones included) back to zero: Keras 2's
   * `model.reset_states()`, and Keras 3's `layer.reset_state()` on each.
   */
  resetStates(): void {
    for (const l of this.layerTree()) l.carriedStates()?.reset();
  }

  /** @internal The names of the model's stateful recurrent layers (nested ones included). */
  statefulLayerNames(): string[] {
    return this.layerTree()
      .filter((l) => l.carriedStates() !== null)
      .map((l) => l.name);
  }

  /** The graph's nodes in execution order. */
  get graphNodes(): readonly import('../engine/symbolic.js').Node[] {
    return this.graph?.nodes ?? [];
  }

  private requireGraph(where: string): Graph {
    if (this.graph === null) {
      throw new MasqueError('NOT_BUILT', `${where}: model '${this.name}' is not built yet; call it on data, or give its first layer inputShape (or start it with Input).`);
    }
    return this.graph;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): MaskedOutputs {
    return this.runGraph(inputs, args, false);
  }

  /** The classes of the model's one output (`predictClasses`): the graph runs with its last layer's `applyClasses`. */
  override callClasses(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): MaskedOutputs {
    return this.runGraph(inputs, args, true);
  }

  private runGraph(inputs: tf.Tensor | tf.Tensor[], args: CallArgs, classes: boolean): MaskedOutputs {
    const graph = this.requireGraph(`${this.className} '${this.name}'`);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== graph.inputs.length) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects ${graph.inputs.length} input(s) but received ${list.length}.`);
    }
    if (classes && graph.outputs.length !== 1) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.className} '${this.name}': classes are taken of a model with one output; this one has ${graph.outputs.length}. Call predict and tf.argMax on the output you want.`);
    }
    const masks: (tf.Tensor | null)[] =
      args.mask === undefined || args.mask === null ? list.map(() => null) : Array.isArray(args.mask) ? args.mask.map((m) => m ?? null) : [args.mask];
    const outs = withMaskPolicy(this.maskPolicy, () => graph.run(list.map((t, i) => this.prepareInput(graph, t, i, masks[i] ?? null)), `${this.className} '${this.name}'`, classes));
    if (classes) return withMasks(outs[0]!, getMask(outs[0]!));
    return withMasks(graph.singleOutput ? outs[0]! : outs, graph.singleOutput ? getMask(outs[0]!) : outs.map(getMask));
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[], args: SpecArgs<CallArgs>): TensorSpec | TensorSpec[] {
    const graph = this.requireGraph(`${this.className} '${this.name}'`);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== graph.inputs.length) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects ${graph.inputs.length} input(s) but received ${list.length}.`);
    }
    const masks: (MaskSpec | null)[] = args.mask === null ? list.map(() => null) : Array.isArray(args.mask) ? args.mask : [args.mask];
    const specs = list.map((s, i) => ({ ...s, dtype: graph.inputs[i]!.dtype, mask: masks[i] ?? null }));
    const outs = withMaskPolicy(this.maskPolicy, () => graph.outputSpecs(specs));
    return graph.singleOutput ? outs[0]! : outs;
  }

  /** Checks input `i` against the graph's input and casts it to the input's dtype, keeping (or setting) its mask. */
  private prepareInput(graph: Graph, t: tf.Tensor, i: number, mask: tf.Tensor | null): tf.Tensor {
    const spec = graph.inputs[i]!;
    const where = `${this.className} '${this.name}', input ${i} ('${spec.name}')`;
    if (t.rank !== spec.rank || spec.shape.some((d, k) => k > 0 && d !== null && d !== t.shape[k])) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected shape ${formatShape(spec.shape)} but received ${formatShape(t.shape)}.`);
    }
    const ownMask = mask ?? getMask(t);
    if ((t.dtype === spec.dtype || spec.dtype === 'string') && mask === null) return t;
    const out = t.dtype === spec.dtype ? tf.clone(t) : tf.cast(t, spec.dtype);
    attachMask(out, ownMask === null ? null : cloneMask(ownMask));
    return out;
  }

  // ---- weights ----

  override get weights(): LayerWeight[] {
    const out: LayerWeight[] = [];
    for (const l of this.layers) for (const w of l.weights) if (!out.includes(w)) out.push(w);
    return out;
  }

  override get trainableWeights(): LayerWeight[] {
    if (!this.trainable) return [];
    const out: LayerWeight[] = [];
    for (const l of this.layers) for (const w of l.trainableWeights) if (!out.includes(w)) out.push(w);
    return out;
  }

  /** Keras's `weight.path` for each weight, in `weights` order. */
  weightPaths(): string[] {
    return this.weights.map((w) => w.path);
  }

  override setWeights(values: (tf.Tensor | ArrayLike<number>)[]): void {
    setWeightList(this.weights, values, `${this.className} '${this.name}'`);
  }

  /** The layer called `name`. */
  getLayer(name: string): AnyLayer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new MasqueError('UNKNOWN_NAME', `${this.className} '${this.name}' has no layer '${name}'; its layers are ${this.layers.map((x) => x.name).join(', ')}.`);
    return l;
  }

  // ---- training ----

  private trainer: Trainer | null = null;
  /** Set to true (e.g. by a callback) to stop `fit` after the current batch. */
  stopTraining = false;

  /** Configures training: optimizer, loss(es) and metrics. Masked outputs get masked losses and metrics. */
  compile(args: CompileArgs): void {
    this.trainer ??= new Trainer(this);
    this.trainer.compile(args);
  }

  /** The optimizer given to `compile`, or null. */
  get optimizer(): Optimizer | null {
    return this.trainer?.optimizer ?? null;
  }

  /** The arguments given to `compile`, or null when the model is not compiled (saving writes them as Keras's `compile_config`). */
  get compileArgs(): Readonly<CompileArgs> | null {
    return this.trainer?.compileArgs ?? null;
  }

  /**
   * Trains the model. `x`/`y` are tensors or nested arrays (one per
   * input/output), or `x` is a variable-length `SequenceDataset` (then omit
   * `y`): each batch is padded only to its longest sequence.
   */
  async fit(x: InputData | SequenceDataset, y?: InputData | FitArgs, args: FitArgs = {}): Promise<History> {
    if (isSequenceDataset(x) && !isData(y)) return this.requireTrainer('fit').fit(x, undefined, (y as FitArgs | undefined) ?? args);
    return this.requireTrainer('fit').fit(x, y as InputData, args);
  }

  /** Loss (and metrics) on data: a number, `[loss, ...metrics]`, or a dict with `returnDict`. */
  async evaluate(x: InputData | SequenceDataset, y?: InputData | EvaluateArgs, args: EvaluateArgs = {}): Promise<number | number[] | Logs> {
    if (isSequenceDataset(x) && !isData(y)) return this.requireTrainer('evaluate').evaluate(x, undefined, (y as EvaluateArgs | undefined) ?? args);
    return this.requireTrainer('evaluate').evaluate(x, y as InputData, args);
  }

  /** One optimizer step on one batch: the loss, `[loss, ...metrics]`, or with `returnDict` a dict. */
  trainOnBatch(x: InputData, y: InputData, options?: TrainOnBatchArgs & { returnDict?: false }): number | number[];
  trainOnBatch(x: InputData, y: InputData, options: TrainOnBatchArgs): number | number[] | Logs;
  trainOnBatch(x: InputData, y: InputData, options: TrainOnBatchArgs = {}): number | number[] | Logs {
    return this.requireTrainer('trainOnBatch').trainOnBatch(x, y, options);
  }

  /** Loss (and metrics) on one batch without changing the weights (Keras's test_on_batch): as `trainOnBatch`'s result. */
  testOnBatch(x: InputData, y: InputData, options?: TestOnBatchArgs & { returnDict?: false }): number | number[];
  testOnBatch(x: InputData, y: InputData, options: TestOnBatchArgs): number | number[] | Logs;
  testOnBatch(x: InputData, y: InputData, options: TestOnBatchArgs = {}): number | number[] | Logs {
    return this.requireTrainer('testOnBatch').testOnBatch(x, y, options);
  }

  /** `predict` on one batch, without splitting it. */
  predictOnBatch(x: InputData | PredictDataset): tf.Tensor | tf.Tensor[] {
    return this.predict(x, { batchSize: Number.MAX_SAFE_INTEGER });
  }

  /** Frees the weights, and the optimizer's state when compile made the optimizer from a name (an Optimizer object you passed is yours to dispose). */
  override dispose(): void {
    super.dispose();
    this.trainer?.dispose();
    this.trainer = null;
  }

  private requireTrainer(where: string): Trainer {
    if (this.trainer === null) {
      throw new MasqueError('NOT_COMPILED', `${where}: model '${this.name}' is not compiled; call model.compile({ optimizer, loss, metrics }) first.`);
    }
    return this.trainer;
  }

  // ---- inference ----

  /**
   * Runs the model in inference mode, in batches. Returns one tensor per
   * output (with its mask attached). `x` may also be variable-length
   * sequences, `{ sequences, padding?, value?, dtype?, bucketing? }` (labels,
   * if present, are ignored): each batch is padded only to its longest
   * sequence, as fit does, and the result is in input order, the time axis
   * padded to the longest sequence, with the output's mask (see
   * training/predict_dataset.ts).
   */
  predict(x: InputData | PredictDataset, options: PredictOptions = {}): tf.Tensor | tf.Tensor[] {
    return this.predictWith(x, options, 'predict', (b) => this.apply(b, { training: false }));
  }

  /**
   * The class at each position of the model's one output: `predict`
   * followed by the argmax over the output's last axis (int32, the output's
   * shape without that axis; the first of equal values), with the output's
   * mask attached; same inputs and options as `predict`. A tagger gets one
   * class per step, its mask marking the real ones.
   *
   * Where the model ends in a Dense layer with a softmax (or no
   * activation), the classes are taken from its logits: the softmax keeps
   * their order and is not computed, and on Node's wasm backend the logits
   * never leave the kernel. (Where two probabilities would round to the
   * same float32, the larger logit wins rather than the first column.)
   */
  predictClasses(x: InputData | PredictDataset, options: PredictOptions = {}): tf.Tensor {
    const graph = this.graph;
    if (graph !== null && graph.outputs.length !== 1) {
      throw new MasqueError('INVALID_ARGUMENT', `predictClasses: model '${this.name}' has ${graph.outputs.length} outputs; classes are taken of a model with one. Call predict and tf.argMax on the output you want.`);
    }
    const out = this.predictWith(x, options, 'predictClasses', (b) => this.applyClasses(b, { training: false }));
    return Array.isArray(out) ? out[0]! : out;
  }

  private predictWith(x: InputData | PredictDataset, options: PredictOptions, where: string, run: (batch: tf.Tensor | tf.Tensor[]) => tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    options = readOptions(PREDICT_OPTIONS, options, where) as PredictOptions;
    const batchSize = options.batchSize!;
    if (isSequenceDataset(x)) return this.predictSequences(x as PredictDataset, batchSize, where, run);
    const { tensors: list, owned } = this.toInputList(x as InputData, where);
    try {
      const graph = this.requireGraph(where);
      const n = list[0]!.shape[0]!;
      if (list.some((t) => t.shape[0] !== n)) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: all inputs must have the same batch size; received ${list.map((t) => t.shape[0]).join(', ')}.`);
      }
      const parts: tf.Tensor[][] = [];
      try {
        for (let start = 0; start < n || (n === 0 && start === 0); start += batchSize) {
          const size = Math.min(batchSize, n - start);
          const batch = list.map((t) => (size === n ? t : sliceRows(t, start, size)));
          try {
            const out = withTraining(false, () => run(graph.singleInput ? batch[0]! : batch));
            parts.push(Array.isArray(out) ? out : [out]);
          } finally {
            batch.forEach((b, i) => b !== list[i] && b.dispose());
          }
          if (n === 0) break;
        }
        const outs = parts[0]!.map((_, k) => concatRows(parts.map((p) => p[k]!)));
        return graph.singleOutput ? outs[0]! : outs;
      } finally {
        parts.flat().forEach((t) => t.dispose());
      }
    } finally {
      list.forEach((t, i) => owned[i] && t.dispose());
    }
  }

  private predictSequences(ds: PredictDataset, batchSize: number, where: string, run: (batch: tf.Tensor | tf.Tensor[]) => tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    // A Sequential without an input shape builds on its first batch.
    if (this.graph !== null && !this.graph.singleInput) {
      throw new MasqueError('INVALID_ARGUMENT', `${where}: model '${this.name}' has ${this.graph.inputs.length} inputs; a { sequences } dataset feeds one. Pad the inputs yourself and pass a list of tensors.`);
    }
    refuseReorderingStates(this.statefulLayerNames(), false, ds.bucketing ?? true, where);
    const outs = predictDataset(ds, batchSize, (xb) => {
      const out = withTraining(false, () => run(xb));
      return Array.isArray(out) ? out : [out];
    }, where);
    return this.requireGraph(where).singleOutput ? outs[0]! : outs;
  }

  /**
   * Converts predict/fit inputs to one tensor per model input; `owned` marks
   * tensors made here. A model that does not know its input yet (a
   * Sequential without an input shape) is built from the data's shape first.
   */
  toInputList(x: InputData, where: string): { tensors: tf.Tensor[]; owned: boolean[] } {
    if (!this.built) this.maybeBuild(dataShape(x));
    return toTensorList(x, this.inputs.length, where, 'input', this.inputs);
  }

  /** Saves the model as a Keras `.keras` file (Node). In browsers use `toKerasBytes()`. */
  async save(path: string): Promise<void> {
    await modelSaver('save').save(this, path);
  }

  /** The model as `.keras` bytes (config.json, metadata.json, model.weights.h5), for browsers or any storage. */
  async toKerasBytes(): Promise<Uint8Array> {
    return modelSaver('toKerasBytes').toBytes(this);
  }

  /** Prints (or returns) a table of layers with output shapes, parameter counts and what each does with the mask. */
  summary(print: (line: string) => void = console.log): string {
    if (typeof print !== 'function') throw new MasqueError('INVALID_ARGUMENT', `${this.className} '${this.name}'.summary: print must be a function (text: string) => void; received ${describe(print)}.`);
    const text = formatSummary(this);
    print(text);
    return text;
  }

  override getConfig(): BaseLayerArgs & Record<string, unknown> {
    return { name: this.name, trainable: this.trainable, maskPolicy: this.maskPolicy };
  }

  /** Output shapes of the graph. */
  get outputShape(): Shape | Shape[] {
    const graph = this.requireGraph('outputShape');
    return graph.singleOutput ? graph.outputs[0]!.shape : graph.outputs.map((o) => o.shape);
  }
}

/** The shape of the (first) input in `x` (a tensor, a list starting with one, or a nested array), with the batch axis unknown. */
function dataShape(x: InputData): Shape {
  const first = Array.isArray(x) && x[0] instanceof tf.Tensor ? x[0] : x;
  if (first instanceof tf.Tensor) return [null, ...first.shape.slice(1)];
  const shape: number[] = [];
  let v: unknown = first;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return [null, ...shape.slice(1)];
}

/** True for targets (a tensor or an array), false for an options object or nothing. */
function isData(v: unknown): boolean {
  return v instanceof tf.Tensor || Array.isArray(v);
}
