/**
 * The layer base class and `apply`, the single path every call takes: on
 * real tensors, on symbolic inputs, directly, inside a model, and inside a
 * model nested in another model. `apply` builds on first use, fills the mask
 * from the inputs' masks unless one is given, enforces the mask policy,
 * calls the layer inside `tidy`, computes the output masks and attaches them.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape, describe } from '../errors.js';
import type { BaseLayerArgs, CallArgs, MaskArg, Shape } from './types.js';
import { attachMask, cloneMask, describeOrigin, getMask, maskOrigin, setMaskOrigin, validateMask } from './masks.js';
import { getMaskPolicy, warn, withMaskPolicy } from './mask_policy.js';
import { currentTraining, withTraining } from './context.js';
import { getInitializer, type InitializerSpec } from './initializers.js';
import { SymbolicTensor, containsSymbolic, isSymbolic, mapSymbolic, type Node } from './symbolic.js';

/** A layer's weights as grouped in a `.keras` weights file. */
export interface SaveTree {
  name: string;
  vars: LayerWeight[];
  groups: Record<string, SaveTree>;
}

/** Options for `addWeight`. */
export interface WeightOptions {
  initializer?: InitializerSpec;
  trainable?: boolean;
  dtype?: tf.DataType;
}

/** A weight owned by a layer, with its Keras-style path (`lstm/lstm_cell/kernel`). */
export class LayerWeight {
  constructor(
    readonly owner: Layer,
    readonly name: string,
    readonly variable: tf.Variable,
    readonly trainable: boolean,
  ) {}
  get shape(): number[] {
    return this.variable.shape;
  }
  /** Path relative to the outermost layer that owns it (Keras's `weight.path` in a Functional model). */
  get path(): string {
    return `${this.owner.path}/${this.name}`;
  }
}

const nameCounts = new Map<string, number>();

/** Keras's snake_case of a class name: GlobalAveragePooling1D -> global_average_pooling1d. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** A unique layer name: `lstm`, `lstm_1`, ... */
export function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

const PROBE_SIZES = [4, 6] as const;
let variableCounter = 0;

type Out<T, M extends boolean> = M extends true ? T[] : M extends false ? T : T | T[];

/**
 * Base class of every layer. Subclasses implement `call`, and may override
 * `build`, `computeMask`, `getConfig`. Set `supportsMasking = true` in the
 * constructor to accept masks; the default `computeMask` then passes the
 * input mask through unchanged.
 *
 * `A` is the layer's call-argument type; `M` says whether it returns one
 * tensor (false), a list (true) or either, depending on its options (boolean).
 */
export abstract class Layer<A extends CallArgs = CallArgs, M extends boolean = false> {
  /** The Keras class name, used in configs, errors and summaries. */
  readonly className: string;
  readonly name: string;
  trainable: boolean;
  supportsMasking = false;
  built = false;
  /** `[batch, ...inputShape]` when the layer was given `inputShape`. */
  readonly batchInputShape: Shape | null;
  readonly inputDtype: BaseLayerArgs['inputDtype'];
  /** Symbolic calls of this layer, in order. */
  readonly inboundNodes: Node[] = [];
  protected parent: Layer<CallArgs, boolean> | null = null;
  private readonly ownWeights: LayerWeight[] = [];
  private readonly children: Layer<CallArgs, boolean>[] = [];
  private readonly childSaveNames = new Map<Layer<CallArgs, boolean>, string>();
  private warnedMask = false;
  private droppedMask: string | null = null;

  constructor(args: BaseLayerArgs = {}, className?: string) {
    this.className = className ?? new.target.name;
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name === '' || args.name.includes('/'))) {
      throw new MasqueError('INVALID_ARGUMENT', `${this.className}: name must be a non-empty string without '/'; received ${describe(args.name)}.`);
    }
    this.name = args.name ?? uniqueName(toSnakeCase(this.className));
    this.trainable = args.trainable ?? true;
    this.batchInputShape = args.inputShape ? [args.batchSize ?? null, ...args.inputShape] : null;
    this.inputDtype = args.inputDtype;
  }

  /** Path used in weight paths: the layer's name, prefixed by its parent's path. */
  get path(): string {
    return this.parent ? `${this.parent.path}/${this.name}` : this.name;
  }

  /** Creates weights. Called once, before the first call, with the input shape(s). */
  build(_inputShape: Shape | Shape[]): void {}

  /** The layer's computation. `args.mask` holds the input mask(s). */
  abstract call(inputs: tf.Tensor | tf.Tensor[], args: A): tf.Tensor | tf.Tensor[];

  /**
   * The output mask(s) for these inputs and input mask(s). The default passes
   * the mask through when `supportsMasking`, and returns null otherwise.
   */
  computeMask(_inputs: tf.Tensor | tf.Tensor[], mask: MaskArg | undefined): MaskArg {
    return this.supportsMasking ? (mask ?? null) : null;
  }

  /** The layer's options, as given to its constructor (Keras names in camelCase). */
  getConfig(): BaseLayerArgs {
    const c: BaseLayerArgs = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) {
      c.inputShape = this.batchInputShape.slice(1);
      if (this.batchInputShape[0] !== null) c.batchSize = this.batchInputShape[0];
      if (this.inputDtype) c.inputDtype = this.inputDtype;
    }
    return c;
  }

  /** Output shape(s) for an input shape, found by running the layer on probe inputs. */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const mk = (s: Shape) => new SymbolicTensor(s, 'float32', null, 0, null, 'probe');
    const ins = Array.isArray(inputShape[0]) || inputShape.length === 0 ? (inputShape as Shape[]).map(mk) : mk(inputShape as Shape);
    const outs = this.symbolicOutputs(ins, {});
    return outs.outputs.length === 1 && !outs.multi ? outs.outputs[0]!.shape : outs.outputs.map((o) => o.shape);
  }

  // ---- weights ----

  /** Creates a weight named `name` (Keras path `<layer path>/<name>`). */
  addWeight(name: string, shape: number[], opts: WeightOptions = {}): tf.Variable {
    const dtype = opts.dtype ?? 'float32';
    const init = getInitializer(opts.initializer ?? 'glorotUniform', `${this.name}.${name}`);
    const value = tf.tidy(() => {
      const v = init(shape, dtype);
      return v.dtype === dtype ? v : tf.cast(v, dtype);
    });
    const trainable = opts.trainable ?? true;
    const variable = tf.variable(value, trainable, `masque/${this.name}/${name}_${++variableCounter}`, dtype);
    value.dispose();
    this.ownWeights.push(new LayerWeight(this as unknown as Layer, name, variable, trainable));
    return variable;
  }

  /** Registers a sub-layer (weights and paths nest under this layer, as in Keras). */
  protected trackLayer<L extends Layer<CallArgs, boolean>>(layer: L, saveName?: string): L {
    (layer as unknown as { parent: Layer<CallArgs, boolean> | null }).parent = this as unknown as Layer<CallArgs, boolean>;
    this.children.push(layer);
    this.childSaveNames.set(layer, saveName ?? layer.name);
    return layer;
  }

  /**
   * The layer's state as Keras saves it in `.keras` files: its own weights
   * (`vars`, trainable first) and one group per sub-layer, named after the
   * Python attribute that holds it (`cell`, `forward_layer`, ...).
   */
  saveTree(): SaveTree {
    const groups: Record<string, SaveTree> = {};
    for (const c of this.children) groups[this.childSaveNames.get(c)!] = c.saveTree();
    return { name: this.name, vars: [...this.ownWeights.filter((w) => w.trainable), ...this.ownWeights.filter((w) => !w.trainable)], groups };
  }

  /** Sub-layers tracked with `trackLayer`. */
  get subLayers(): Layer<CallArgs, boolean>[] {
    return [...this.children];
  }

  /** All weights: own (trainable, then non-trainable), then sub-layers', as Keras orders them. */
  get weights(): LayerWeight[] {
    const own = [...this.ownWeights.filter((w) => w.trainable), ...this.ownWeights.filter((w) => !w.trainable)];
    const out = [...own];
    for (const c of this.children) for (const w of c.weights) if (!out.includes(w)) out.push(w);
    return out;
  }

  get trainableWeights(): LayerWeight[] {
    return this.trainable ? this.weights.filter((w) => w.trainable && w.owner.isTrainable()) : [];
  }

  get nonTrainableWeights(): LayerWeight[] {
    const t = this.trainableWeights;
    return this.weights.filter((w) => !t.includes(w));
  }

  isTrainable(): boolean {
    return this.trainable && (this.parent === null || this.parent.isTrainable());
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Copies of the weight values, in `weights` order. */
  getWeights(): tf.Tensor[] {
    return this.weights.map((w) => tf.clone(w.variable));
  }

  /** Sets the weights from values in `weights` order (shapes must match). */
  setWeights(values: (tf.Tensor | ArrayLike<number>)[]): void {
    setWeightList(this.weights, values, `Layer '${this.name}' (${this.className})`);
  }

  dispose(): void {
    for (const w of this.weights) w.variable.dispose();
  }

  // ---- apply ----

  /** Calls the layer on symbolic inputs (building a graph) or on tensors. */
  apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<A>): Out<SymbolicTensor, M>;
  apply(inputs: tf.Tensor | tf.Tensor[], args?: A): Out<tf.Tensor, M>;
  apply(inputs: unknown, argsIn?: unknown): unknown {
    const args = (argsIn ?? {}) as Record<string, unknown>;
    if (containsSymbolic(inputs) || containsSymbolic(args)) {
      const { outputs, multi } = this.symbolicOutputs(inputs as SymbolicTensor | SymbolicTensor[], args, true);
      return multi ? outputs : outputs[0];
    }
    return this.applyConcrete(inputs as tf.Tensor | tf.Tensor[], args as A);
  }

  private maybeBuild(shapes: Shape | Shape[]): void {
    if (this.built) return;
    this.build(shapes);
    this.built = true;
  }

  /** Hook: sees the first concrete inputs before `build` (Sequential takes its input dtype from them). */
  protected beforeFirstCall(_inputs: tf.Tensor[]): void {}

  /** Hook for models: run the call and return outputs with their masks. */
  protected callAndMask(inputs: tf.Tensor | tf.Tensor[], args: A): { outputs: tf.Tensor | tf.Tensor[]; masks: MaskArg } {
    const outputs = this.call(inputs, args);
    return { outputs, masks: this.computeMask(inputs, args.mask) };
  }

  private applyConcrete(inputs: tf.Tensor | tf.Tensor[], args: A): tf.Tensor | tf.Tensor[] {
    const list = checkTensors(inputs, this);
    if (!this.built) this.beforeFirstCall(list);
    this.maybeBuild(Array.isArray(inputs) ? list.map((t) => t.shape) : list[0]!.shape);
    const explicit = args.mask !== undefined;
    let mask: MaskArg = explicit ? args.mask! : collectMasks(inputs);
    if (explicit) markExplicit(mask, this);
    if (!this.supportsMasking && hasMask(mask)) mask = this.onUnsupportedMask(mask);
    checkMasks(mask, inputs, this);
    const training = args.training ?? currentTraining() ?? false;
    const origin = { layerName: this.name, className: this.className, detail: this.maskDetail() };
    let multi = false;
    let nOut = 0;
    const maskSlots: (number | null)[] = [];
    const flat = withTraining(training, () =>
      tf.tidy(() => {
        const { outputs, masks } = this.callAndMask(inputs, { ...args, mask, training });
        multi = Array.isArray(outputs);
        const outs = checkOutputs(outputs, this);
        nOut = outs.length;
        const inputSet = new Set<tf.Tensor>(list);
        const res: tf.Tensor[] = outs.map((o, i) => (inputSet.has(o) || outs.indexOf(o) !== i ? tf.clone(o) : o));
        const ms = spreadMasks(masks, nOut, this);
        for (const m of ms) {
          if (m === null) {
            maskSlots.push(null);
          } else {
            const c = cloneMask(m);
            setMaskOrigin(c, origin);
            maskSlots.push(res.length);
            res.push(c);
          }
        }
        return res;
      }),
    );
    const outs = flat.slice(0, nOut);
    outs.forEach((o, i) => {
      const slot = maskSlots[i]!;
      if (slot === null) attachMask(o, null);
      else attachMask(o, flat[slot]!);
    });
    return multi ? outs : outs[0]!;
  }

  /** Extra words for mask-origin messages (e.g. 'maskZero'). */
  protected maskDetail(): string | undefined {
    return undefined;
  }

  /** The error raised when this layer, which cannot use masks, receives `from` (a description of the mask). */
  maskNotSupportedError(from: string): MasqueError {
    return new MasqueError(
      'MASK_NOT_SUPPORTED',
      `Layer '${this.name}' (${this.className}) does not support masking but received ${from}. ` +
        `Put a layer that consumes the mask before it (for example GlobalAveragePooling1D or an RNN without returnSequences), ` +
        `or set maskPolicy to 'warn' (drop the mask, as Keras 3 does) on the model or with setMaskPolicy.`,
    );
  }

  private onUnsupportedMask(mask: MaskArg): MaskArg {
    const first = (Array.isArray(mask) ? mask : [mask]).find((m): m is tf.Tensor => m !== null && m !== undefined)!;
    const policy = getMaskPolicy();
    const from = describeOrigin(maskOrigin(first));
    this.droppedMask = from;
    if (policy === 'error') throw this.maskNotSupportedError(from);
    if (policy === 'warn' && !this.warnedMask) {
      this.warnedMask = true;
      warn(`Layer '${this.name}' (${this.className}) does not support masking; dropping ${from}. Padded steps are processed as data.`);
    }
    return Array.isArray(mask) ? mask.map(() => null) : null;
  }

  /** Builds the node and symbolic outputs by running the layer on two probe sizes. */
  private symbolicOutputs(inputs: SymbolicTensor | SymbolicTensor[], args: Record<string, unknown>, record = false): { outputs: SymbolicTensor[]; multi: boolean } {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    for (const s of list) {
      if (!isSymbolic(s)) {
        throw new MasqueError('INVALID_INPUT', `Layer '${this.name}' (${this.className}): cannot mix symbolic inputs (from Input) and tensors in one call; received ${describe(s)}.`);
      }
    }
    this.maybeBuild(Array.isArray(inputs) ? list.map((s) => s.shape) : list[0]!.shape);
    // Probes never raise for a dropped mask: the node records it, and the
    // model that contains the node applies its own mask policy.
    this.droppedMask = null;
    const probes = withMaskPolicy('ignore', () => PROBE_SIZES.map((p) => this.probe(inputs, args, p)));
    const dropsMask = this.droppedMask;
    const [a, b] = probes as [ProbeResult, ProbeResult];
    const merge = (x: number[], y: number[]): Shape => x.map((d, i) => (d === y[i] ? d : null));
    const node: Node = { layer: this as unknown as Layer, inputs, args, outputs: [], multiOutput: a.multi, dropsMask };
    const outputs = a.shapes.map((s, k) => {
      const ma = a.masks[k]!;
      const mb = b.masks[k]!;
      const maskSpec = ma && mb ? { shape: merge(ma.shape, mb.shape), origin: ma.origin } : null;
      const nm = a.shapes.length === 1 ? this.name : `${this.name}:${k}`;
      return new SymbolicTensor(merge(s, b.shapes[k]!), a.dtypes[k]!, record ? node : null, k, maskSpec, nm);
    });
    node.outputs = outputs;
    if (record) this.inboundNodes.push(node);
    return { outputs, multi: a.multi };
  }

  private probe(inputs: SymbolicTensor | SymbolicTensor[], args: Record<string, unknown>, size: number): ProbeResult {
    let result: ProbeResult | undefined;
    tf.tidy(() => {
      const made = new Map<SymbolicTensor, tf.Tensor>();
      const make = (s: SymbolicTensor): tf.Tensor => {
        let t = made.get(s);
        if (t === undefined) {
          const shape = s.shape.map((d) => d ?? size);
          t = s.dtype === 'bool' ? tf.ones(shape, 'bool') : s.dtype === 'string' ? tf.fill(shape, '', 'string') : tf.zeros(shape, s.dtype);
          if (s.mask) attachMask(t, tf.ones(s.mask.shape.map((d) => d ?? size), 'bool'), s.mask.origin);
          made.set(s, t);
        }
        return t;
      };
      const ins = mapSymbolic(inputs, make) as tf.Tensor | tf.Tensor[];
      const a = mapSymbolic(args, make) as A;
      const out = withTraining(false, () => this.applyConcrete(ins, { ...a, training: false }));
      const outs = Array.isArray(out) ? out : [out];
      result = {
        shapes: outs.map((o) => o.shape),
        dtypes: outs.map((o) => o.dtype),
        masks: outs.map((o) => {
          const m = getMask(o);
          return m ? { shape: m.shape, origin: maskOrigin(m) } : null;
        }),
        multi: Array.isArray(out),
      };
    });
    return result!;
  }
}

interface ProbeResult {
  shapes: number[][];
  dtypes: tf.DataType[];
  masks: ({ shape: number[]; origin: ReturnType<typeof maskOrigin> } | null)[];
  multi: boolean;
}

/** Call arguments where tensors may be symbolic (explicit masks, initial states). */
export type SymbolicArgs<A> = { [K in keyof A]?: A[K] | SymbolicTensor | (SymbolicTensor | null)[] | SymbolicTensor[] };

function checkTensors(inputs: unknown, layer: Layer<CallArgs, boolean>): tf.Tensor[] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 0) throw new MasqueError('INVALID_INPUT', `Layer '${layer.name}' (${layer.className}) received an empty list of inputs.`);
  for (const t of list) {
    if (!(t instanceof tf.Tensor)) {
      throw new MasqueError('INVALID_INPUT', `Layer '${layer.name}' (${layer.className}) expects tensors (or symbolic tensors from Input) as inputs; received ${describe(t)}.`);
    }
    if (t.isDisposed) throw new MasqueError('INVALID_INPUT', `Layer '${layer.name}' (${layer.className}) received a disposed tensor of shape ${formatShape(t.shape)}.`);
  }
  return list as tf.Tensor[];
}

function checkOutputs(outputs: unknown, layer: Layer<CallArgs, boolean>): tf.Tensor[] {
  const list = Array.isArray(outputs) ? outputs : [outputs];
  for (const t of list) {
    if (!(t instanceof tf.Tensor)) {
      throw new MasqueError('INVALID_CONFIG', `Layer '${layer.name}' (${layer.className}): call() must return a tensor or a list of tensors; it returned ${describe(t)}.`);
    }
  }
  return list as tf.Tensor[];
}

function collectMasks(inputs: tf.Tensor | tf.Tensor[]): MaskArg {
  if (!Array.isArray(inputs)) return getMask(inputs);
  const ms = inputs.map((t) => getMask(t));
  return ms.every((m) => m === null) ? null : ms;
}

function hasMask(mask: MaskArg | undefined): boolean {
  if (mask === null || mask === undefined) return false;
  return Array.isArray(mask) ? mask.some((m) => m !== null && m !== undefined) : true;
}

function markExplicit(mask: MaskArg, layer: Layer<CallArgs, boolean>): void {
  for (const m of Array.isArray(mask) ? mask : [mask]) {
    if (m instanceof tf.Tensor) setMaskOrigin(m, { layerName: layer.name, className: layer.className, detail: 'explicit mask argument' });
  }
}

function checkMasks(mask: MaskArg, inputs: tf.Tensor | tf.Tensor[], layer: Layer<CallArgs, boolean>): void {
  const where = `Layer '${layer.name}' (${layer.className})`;
  if (mask === null) return;
  if (Array.isArray(mask)) {
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    if (mask.length !== ins.length) {
      throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: received ${mask.length} masks for ${ins.length} inputs; pass one mask (or null) per input.`);
    }
    mask.forEach((m, i) => {
      if (m !== null && m !== undefined) checkOneMask(m, ins[i]!, `${where}, input ${i}`);
    });
    return;
  }
  if (Array.isArray(inputs)) {
    throw new MasqueError('MASK_SHAPE_MISMATCH', `${where}: received one mask for ${inputs.length} inputs; pass a list with one mask (or null) per input.`);
  }
  checkOneMask(mask, inputs, where);
}

function checkOneMask(m: unknown, input: tf.Tensor, where: string): void {
  if (!(m instanceof tf.Tensor)) throw new MasqueError('MASK_INVALID', `${where}: a mask must be a bool tensor or null; received ${describe(m)}.`);
  if (m.isDisposed) throw new MasqueError('MASK_INVALID', `${where}: the mask tensor has been disposed.`);
  validateMask(m, input, where);
}

function spreadMasks(masks: MaskArg | undefined, n: number, layer: Layer<CallArgs, boolean>): (tf.Tensor | null)[] {
  if (masks === null || masks === undefined) return new Array(n).fill(null);
  if (!Array.isArray(masks)) return new Array(n).fill(masks);
  if (n === 1) return [masks.find((m) => m !== null && m !== undefined) ?? null];
  if (masks.length !== n) {
    throw new MasqueError('MASK_INVALID', `Layer '${layer.name}' (${layer.className}): computeMask returned ${masks.length} masks for ${n} outputs.`);
  }
  return masks.map((m) => m ?? null);
}

/** Assigns `values` to `weights` in order, checking count and shapes. */
export function setWeightList(weights: LayerWeight[], values: (tf.Tensor | ArrayLike<number>)[], where: string): void {
  if (values.length !== weights.length) {
    throw new MasqueError(
      'WEIGHT_COUNT_MISMATCH',
      `${where}: setWeights expected ${weights.length} arrays (${weights.map((w) => w.path).join(', ') || 'none'}) but received ${values.length}.`,
    );
  }
  weights.forEach((w, i) => {
    const v = values[i]!;
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (v instanceof tf.Tensor) {
      if (v.shape.length !== w.shape.length || v.shape.some((d, k) => d !== w.shape[k])) {
        throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${where}: weight '${w.path}' has shape ${formatShape(w.shape)} but the value given has shape ${formatShape(v.shape)}.`);
      }
      w.variable.assign(v.dtype === w.variable.dtype ? v : tf.cast(v, w.variable.dtype));
    } else {
      if (v.length !== size) {
        throw new MasqueError('WEIGHT_SHAPE_MISMATCH', `${where}: weight '${w.path}' of shape ${formatShape(w.shape)} needs ${size} values but received ${v.length}.`);
      }
      tf.tidy(() => w.variable.assign(tf.tensor(Array.from(v), w.shape, w.variable.dtype)));
    }
  });
}
