/**
 * Functional models: a graph of layer calls on symbolic inputs, run through
 * the same `apply` as a direct call, so masks propagate identically at every
 * level of nesting. `Model` is itself a layer.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, describe, formatShape } from '../errors.js';
import { Layer, type LayerWeight, setWeightList } from '../engine/layer.js';
import { InputLayer } from '../engine/input_layer.js';
import { SymbolicTensor, collectSymbolic, isSymbolic, mapSymbolic, type Node } from '../engine/symbolic.js';
import { attachMask, cloneMask, getMask } from '../engine/masks.js';
import { checkPolicy, getMaskPolicy, withMaskPolicy, type MaskPolicy } from '../engine/mask_policy.js';
import { withTraining } from '../engine/context.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape } from '../engine/types.js';
import { concatRows, sliceRows, toTensorList, type InputData } from '../data/input_data.js';
import { formatSummary } from './summary.js';
import { Trainer, type CompileArgs, type EvaluateArgs, type FitArgs } from '../training/trainer.js';
import type { Optimizer } from '../training/optimizers.js';
import type { History, Logs } from '../training/callbacks.js';
import { isSequenceDataset, type SequenceDataset } from '../training/data_adapter.js';

export interface ModelArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
  trainable?: boolean;
  /** What layers that cannot use a mask do when they receive one inside this model (default: the global policy). */
  maskPolicy?: MaskPolicy;
}

export interface PredictOptions {
  batchSize?: number;
}

/** A functional model: `new Model({ inputs, outputs })`. */
export class Model extends Layer<CallArgs, boolean> {
  inputs: SymbolicTensor[] = [];
  outputs: SymbolicTensor[] = [];
  /** Layers in graph order (input layers first), as Keras's `model.layers`. */
  layers: Layer<CallArgs, boolean>[] = [];
  maskPolicy: MaskPolicy | undefined;
  protected nodes: Node[] = [];
  protected singleInput = true;
  protected singleOutput = true;
  /** True when the input shape was inferred from data (lazily built Sequential). */
  protected inferredInput = false;

  constructor(args: ModelArgs, className = 'Functional') {
    super({ name: args.name, trainable: args.trainable }, className);
    this.supportsMasking = true;
    this.maskPolicy = args.maskPolicy === undefined ? undefined : checkPolicy(args.maskPolicy, `${className} '${this.name}'`);
    if (className === 'Functional' || args.inputs !== undefined) {
      this.setGraph(args.inputs, args.outputs);
    }
  }

  /** Sets the graph from symbolic inputs and outputs; checks it is connected. */
  protected setGraph(inputs: SymbolicTensor | SymbolicTensor[], outputs: SymbolicTensor | SymbolicTensor[]): void {
    const where = `${this.className} '${this.name}'`;
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    for (const [what, list] of [['inputs', ins], ['outputs', outs]] as const) {
      if (list.length === 0 || list.some((s) => !isSymbolic(s))) {
        throw new MasqueError('INVALID_ARGUMENT', `${where}: ${what} must be symbolic tensors (from Input and layer calls); received ${describe(list.map((s) => (isSymbolic(s) ? s.name : s)))}.`);
      }
    }
    for (const s of ins) {
      if (!(s.node?.layer instanceof InputLayer)) {
        throw new MasqueError('INVALID_ARGUMENT', `${where}: every input must come from Input(); '${s.name}' was made by a layer call.`);
      }
    }
    const order: Node[] = [];
    const seen = new Set<Node>();
    const visiting = new Set<Node>();
    const visit = (s: SymbolicTensor, from: string): void => {
      const node = s.node;
      if (node === null) throw new MasqueError('GRAPH_DISCONNECTED', `${where}: the tensor '${s.name}' has no producing layer call.`);
      if (seen.has(node)) return;
      if (node.layer instanceof InputLayer && !ins.includes(s)) {
        throw new MasqueError(
          'GRAPH_DISCONNECTED',
          `${where}: graph disconnected. '${from}' needs the input '${s.name}', which is not among the model's inputs [${ins.map((i) => i.name).join(', ')}].`,
        );
      }
      if (visiting.has(node)) throw new MasqueError('GRAPH_DISCONNECTED', `${where}: the graph has a cycle at layer '${node.layer.name}'.`);
      visiting.add(node);
      for (const t of collectSymbolic([node.inputs, node.args])) visit(t, node.layer.name);
      visiting.delete(node);
      seen.add(node);
      order.push(node);
    };
    for (const s of ins) visit(s, s.name);
    for (const s of outs) visit(s, s.name);
    const layers: Layer<CallArgs, boolean>[] = [];
    for (const n of order) if (!layers.includes(n.layer)) layers.push(n.layer);
    const names = new Set<string>();
    for (const l of layers) {
      if (names.has(l.name)) throw new MasqueError('INVALID_ARGUMENT', `${where}: layer names must be unique in a model; '${l.name}' appears twice.`);
      names.add(l.name);
    }
    this.inputs = ins;
    this.outputs = outs;
    this.nodes = order;
    this.layers = layers;
    this.singleInput = !Array.isArray(inputs);
    this.singleOutput = !Array.isArray(outputs);
    this.built = true;
    this.checkDroppedMasks();
  }

  /** Under the 'error' policy, a node that drops a mask makes the model invalid. */
  protected checkDroppedMasks(): void {
    const policy = this.maskPolicy ?? getMaskPolicy();
    if (policy !== 'error') return;
    for (const n of this.nodes) if (n.dropsMask !== null) throw n.layer.maskNotSupportedError(n.dropsMask);
  }

  /** The graph's nodes in execution order. */
  get graphNodes(): readonly Node[] {
    return this.nodes;
  }

  call(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): tf.Tensor | tf.Tensor[] {
    return this.callAndMask(inputs, args).outputs;
  }

  protected override callAndMask(inputs: tf.Tensor | tf.Tensor[], args: CallArgs): { outputs: tf.Tensor | tf.Tensor[]; masks: MaskArg } {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== this.inputs.length) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${this.className} '${this.name}' expects ${this.inputs.length} input(s) but received ${list.length}.`);
    }
    const masks: (tf.Tensor | null)[] =
      args.mask === undefined || args.mask === null ? list.map(() => null) : Array.isArray(args.mask) ? args.mask.map((m) => m ?? null) : [args.mask];
    const outs = withMaskPolicy(this.maskPolicy, () => this.runGraph(list.map((t, i) => this.prepareInput(t, i, masks[i] ?? null))));
    return { outputs: this.singleOutput ? outs[0]! : outs, masks: this.singleOutput ? getMask(outs[0]!) : outs.map(getMask) };
  }

  private prepareInput(t: tf.Tensor, i: number, mask: tf.Tensor | null): tf.Tensor {
    const spec = this.inputs[i]!;
    const where = `${this.className} '${this.name}', input ${i} ('${spec.name}')`;
    if (t.rank !== spec.rank || (!this.inferredInput && spec.shape.some((d, k) => k > 0 && d !== null && d !== t.shape[k]))) {
      throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: expected shape ${formatShape(spec.shape)} but received ${formatShape(t.shape)}.`);
    }
    const ownMask = mask ?? getMask(t);
    if (t.dtype === spec.dtype || spec.dtype === 'string') {
      if (mask === null) return t;
    }
    const out = t.dtype === spec.dtype ? tf.clone(t) : tf.cast(t, spec.dtype);
    attachMask(out, ownMask === null ? null : cloneMask(ownMask));
    return out;
  }

  private runGraph(inputs: tf.Tensor[]): tf.Tensor[] {
    const values = new Map<SymbolicTensor, tf.Tensor>();
    this.inputs.forEach((s, i) => values.set(s, inputs[i]!));
    const get = (s: SymbolicTensor): tf.Tensor => {
      const v = values.get(s);
      if (v === undefined) throw new MasqueError('GRAPH_DISCONNECTED', `${this.className} '${this.name}': no value for '${s.name}'.`);
      return v;
    };
    for (const node of this.nodes) {
      if (node.layer instanceof InputLayer) continue;
      const ins = mapSymbolic(node.inputs, get) as tf.Tensor | tf.Tensor[];
      const a = mapSymbolic(node.args, get) as CallArgs;
      const out = node.layer.apply(ins, a);
      const flat = Array.isArray(out) ? out : [out];
      node.outputs.forEach((s, k) => values.set(s, flat[k]!));
    }
    return this.outputs.map(get);
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
  getLayer(name: string): Layer<CallArgs, boolean> {
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

  /** One optimizer step on one batch. */
  trainOnBatch(x: InputData, y: InputData, options: { sampleWeight?: tf.Tensor | number[] } = {}): number | number[] {
    return this.requireTrainer('trainOnBatch').trainOnBatch(x, y, options);
  }

  /** `predict` on one batch, without splitting it. */
  predictOnBatch(x: InputData): tf.Tensor | tf.Tensor[] {
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

  /** Runs the model in inference mode, in batches. Returns one tensor per output (with its mask attached). */
  predict(x: InputData, options: PredictOptions = {}): tf.Tensor | tf.Tensor[] {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new MasqueError('INVALID_ARGUMENT', `predict: batchSize must be a positive integer; received ${describe(options.batchSize)}.`);
    }
    const { tensors: list, owned } = this.toInputList(x, 'predict');
    try {
      const n = list[0]!.shape[0]!;
      if (list.some((t) => t.shape[0] !== n)) {
        throw new MasqueError('INPUT_SHAPE_MISMATCH', `predict: all inputs must have the same batch size; received ${list.map((t) => t.shape[0]).join(', ')}.`);
      }
      const parts: tf.Tensor[][] = [];
      for (let start = 0; start < n || (n === 0 && start === 0); start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const batch = list.map((t) => (size === n ? t : sliceRows(t, start, size)));
        const out = withTraining(false, () => this.apply(this.singleInput ? batch[0]! : batch, { training: false }));
        parts.push(Array.isArray(out) ? out : [out]);
        batch.forEach((b, i) => b !== list[i] && b.dispose());
        if (n === 0) break;
      }
      const outs = parts[0]!.map((_, k) => concatRows(parts.map((p) => p[k]!)));
      parts.flat().forEach((t) => t.dispose());
      return this.singleOutput ? outs[0]! : outs;
    } finally {
      list.forEach((t, i) => owned[i] && t.dispose());
    }
  }

  /** Converts predict/fit inputs to one tensor per model input; `owned` marks tensors made here. */
  toInputList(x: InputData, where: string): { tensors: tf.Tensor[]; owned: boolean[] } {
    if (!this.built) this.ensureBuiltFor(x);
    return toTensorList(x, this.inputs.length, where, 'input', this.inputs);
  }

  /** Hook for Sequential: build from the first data seen. */
  protected ensureBuiltFor(_x: InputData): void {}

  /** Saves the model as a Keras `.keras` file (Node). In browsers use `toKerasBytes()`. */
  async save(path: string): Promise<void> {
    const { saveModel } = await import('../io/keras_file_node.js');
    await saveModel(this, path);
  }

  /** The model as `.keras` bytes (config.json, metadata.json, model.weights.h5), for browsers or any storage. */
  async toKerasBytes(): Promise<Uint8Array> {
    const { saveModelToBytes } = await import('../io/keras_saving.js');
    return saveModelToBytes(this);
  }

  /** Prints (or returns) a table of layers with output shapes, parameter counts and what each does with the mask. */
  summary(print: (line: string) => void = console.log): string {
    const text = formatSummary(this);
    print(text);
    return text;
  }

  override getConfig(): BaseLayerArgs & Record<string, unknown> {
    return { name: this.name, trainable: this.trainable, maskPolicy: this.maskPolicy };
  }

  /** Output shapes of the graph. */
  get outputShape(): Shape | Shape[] {
    return this.singleOutput ? this.outputs[0]!.shape : this.outputs.map((o) => o.shape);
  }
}

/** True for targets (a tensor or an array), false for an options object or nothing. */
function isData(v: unknown): boolean {
  return v instanceof tf.Tensor || Array.isArray(v);
}
