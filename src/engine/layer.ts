/**
 * The layer base class and `apply`, the single path every call takes: on
 * real tensors, on symbolic inputs, directly, inside a model, and inside a
 * model nested in another model.
 *
 * On tensors, `apply` builds on first use, fills the mask from the inputs'
 * masks unless one is given, enforces the mask policy, calls the layer
 * inside `tidy`, computes the output masks (or takes those `call` returned
 * with `withMasks`) and attaches them.
 *
 * On symbolic inputs, `apply` builds the layer (its weights) and computes
 * the output specs (shape, dtype, mask) with `computeOutputSpec`, which
 * every built-in layer declares; nothing runs. Only a layer that declares no
 * output spec (Lambda, custom layers) is traced on small made-up tensors.
 *
 * A layer class declares its options in a static `options` table
 * (engine/options.ts): the constructor validates the options object against
 * it and fills the defaults, and `getConfig` returns the filled options.
 */
import { tf } from '../runtime/tfjs.js';
import { MasqueError, formatShape, describe } from '../errors.js';
import { toSnakeCase } from '../names.js';
import type { BaseLayerArgs, CallArgs, MaskArg, MaskSpec, MaskSpecArg, Shape, SpecArgs, TensorSpec } from './types.js';
import { attachMask, checkMaskShape, cloneMask, maskFits, describeOrigin, getMask, maskOrigin, setMaskOrigin, validateMask, type MaskOrigin } from './masks.js';
import { getMaskPolicy, warn, withMaskPolicy } from './mask_policy.js';
import { collectingLosses, currentTraining, recordLoss, withTraining } from './context.js';
import { getInitializer, type InitializerSpec } from './initializers.js';
import { getConstraint, getRegularizer, type ConstraintFn, type ConstraintSpec, type RegularizerFn, type RegularizerSpec } from './regularizers.js';
import { SymbolicTensor, containsSymbolic, isSymbolic, mapSymbolic, type Node } from './symbolic.js';
import { BASE_OPTIONS, closestOption, readOptions, type OptionTable } from './options.js';
import type { CarriedStates } from './carried_states.js';

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
  /** A penalty on the weight that training adds to the loss (Keras's weight regularizer). */
  regularizer?: RegularizerSpec | null;
  /** A projection applied to the weight after each optimizer step (Keras's constraint). */
  constraint?: ConstraintSpec | null;
}

/** A weight owned by a layer, with its Keras-style path (`lstm/lstm_cell/kernel`). */
export class LayerWeight {
  constructor(
    readonly owner: Layer,
    readonly name: string,
    readonly variable: tf.Variable,
    readonly trainable: boolean,
    /** The weight's regularizer (its penalty joins the training loss), or null. */
    readonly regularizer: RegularizerFn | null = null,
    /** The weight's constraint (applied after each optimizer step), or null. */
    readonly constraint: ConstraintFn | null = null,
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

/** A unique layer name: `lstm`, `lstm_1`, ... */
export function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

const PROBE_SIZES = [4, 6] as const;
let variableCounter = 0;
/** The most values one weight may hold: 2^30, 4 GiB of float32 (Node allocates at most 2^32 bytes in one buffer, and tfjs copies a tensor's bytes). */
const MAX_WEIGHT_SIZE = 2 ** 30;

type Out<T, M extends boolean> = M extends true ? T[] : M extends false ? T : T | T[];

/** What a layer class declares besides its code (the statics `apply` and `src/io` read). */
export interface LayerClass {
  /** The Keras class name, when it is not the JavaScript class name. */
  readonly className?: string;
  /** The declared options (besides the base ones), or null for a layer that declares none (custom layers). */
  readonly options: OptionTable | null;
  /** Words added to the origin of the masks this layer makes, for messages ('maskZero'). */
  maskDetail?(layer: Layer<CallArgs, boolean>): string | undefined;
  readonly prototype: Layer<CallArgs, boolean>;
}

/**
 * Outputs that `call` returns together with their masks (`withMasks`), for
 * layers whose masks come out of the same computation (Masking, attention,
 * models). `apply` then attaches these instead of calling `computeMask`.
 */
export class MaskedOutputs {
  constructor(
    readonly outputs: tf.Tensor | tf.Tensor[],
    readonly masks: MaskArg,
  ) {}
}

/** Returns `outputs` from `call` with their `masks` (one mask, or one per output). */
export function withMasks(outputs: tf.Tensor | tf.Tensor[], masks: MaskArg): MaskedOutputs {
  return new MaskedOutputs(outputs, masks);
}

/** What a call on specs gives: the output specs, whether the layer returns a list, and the mask it dropped (if any). */
export interface SpecResult {
  outputs: TensorSpec[];
  multi: boolean;
  /** A description of the mask this layer received and cannot use, or null. */
  dropsMask: string | null;
}

function ownStatic<T>(cls: object, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(cls, key) ? ((cls as Record<string, unknown>)[key] as T) : undefined;
}

const BASE_KEYS = Object.keys(BASE_OPTIONS);

/**
 * The Python class name of a Keras class whose exported name differs
 * (`keras.layers.GroupQueryAttention` is the class GroupedQueryAttention):
 * Keras names default layer names and `.keras` weight groups after it.
 */
export function pythonClassName(cls: object): string | undefined {
  return ownStatic<string>(cls, 'pythonClassName');
}

/**
 * Base class of every layer. Subclasses implement `call`, and may override
 * `build`, `computeMask`, `computeOutputSpec`. Set `supportsMasking = true`
 * in the constructor to accept masks; the default `computeMask` then passes
 * the input mask through unchanged.
 *
 * Built-in layers declare `static options` (their option table) and
 * `static className`; custom layers may pass their class name to `super`
 * and keep their own options.
 *
 * `A` is the layer's call-argument type; `M` says whether it returns one
 * tensor (false), a list (true) or either, depending on its options (boolean).
 */
export abstract class Layer<A extends CallArgs = CallArgs, M extends boolean = false> {
  /** The declared options (none: a custom layer that reads its own). */
  static readonly options: OptionTable | null = null;
  /** The Keras class name, when it is not the JavaScript class name (subclasses set their own). */
  static readonly className?: string;
  /** True for Keras operations (ops.not_equal, ...) run as layers: graph nodes, but not among a model's `layers`, as in Keras. */
  static readonly isOperation: boolean = false;
  /**
   * Whether a call on tensors first checks its inputs with
   * `computeOutputSpec` (shapes, dtypes, masks, before tfjs sees them).
   * Models check their inputs themselves and their layers check theirs.
   */
  static readonly checksInputSpecs: boolean = true;
  /** Whether `call` runs user code (Lambda): its non-Masque errors are rethrown naming the layer, as for custom layers. */
  static readonly runsUserCode: boolean = false;
  /** Whether the layer takes string tensors (text layers); others refuse them at the door. */
  static readonly acceptsStrings: boolean = false;
  /**
   * Whether integer and bool inputs are cast to float32 before `call` (the
   * built-in layers that compute in float: numpy computes them in float, and
   * tfjs kernels such as softmax and pooling refuse int32). Embedding, the
   * Keras operations and layers without declared options keep their inputs.
   */
  static readonly floatInputs: boolean = true;
  /** The Keras class name, used in configs, errors and summaries. */
  readonly className: string;
  readonly name: string;
  trainable: boolean;
  supportsMasking = false;
  built = false;
  /**
   * The layer's own options: with a declared table, every declared option
   * filled in (defaults included); otherwise what the constructor received.
   */
  readonly args: object;
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

  constructor(args: object = {}, className?: string) {
    const cls = new.target as unknown as LayerClass;
    this.className = className ?? ownStatic<string>(cls, 'className') ?? (cls as unknown as { name: string }).name;
    const table = cls.options;
    const given = (args ?? {}) as Record<string, unknown>;
    const named = typeof given['name'] === 'string' && given['name'] !== '' ? ` '${given['name']}'` : '';
    const where = `${this.className}${named}`;
    let base: Record<string, unknown>;
    if (table !== null) {
      const all = readOptions({ ...BASE_OPTIONS, ...table }, given, where);
      const own: Record<string, unknown> = {};
      for (const k of Object.keys(table)) own[k] = all[k];
      base = all;
      this.args = own;
    } else {
      // A layer without a declaration reads its own options; the base ones are checked here.
      const picked: Record<string, unknown> = {};
      if (given !== null && typeof given === 'object') for (const k of BASE_KEYS) if (Object.prototype.hasOwnProperty.call(given, k)) picked[k] = given[k];
      base = readOptions(BASE_OPTIONS, picked, where);
      this.args = given;
    }
    this.name = (base['name'] as string | undefined) ?? uniqueName(toSnakeCase(pythonClassName(cls as unknown as object) ?? this.className));
    this.trainable = base['trainable'] as boolean;
    const inputShape = base['inputShape'] as Shape | undefined;
    this.batchInputShape = inputShape ? [(base['batchSize'] as number | null | undefined) ?? null, ...inputShape] : null;
    this.inputDtype = base['inputDtype'] as BaseLayerArgs['inputDtype'];
  }

  /** Path used in weight paths: the layer's name, prefixed by its parent's path. */
  get path(): string {
    return this.parent ? `${this.parent.path}/${this.name}` : this.name;
  }

  /** Creates weights. Called once, before the first call, with the input shape(s). */
  build(_inputShape: Shape | Shape[]): void {}

  /**
   * The layer's computation. `args.mask` holds the input mask(s). Return the
   * output(s), or `withMasks(outputs, masks)` when the masks come out of the
   * same computation.
   */
  abstract call(inputs: tf.Tensor | tf.Tensor[], args: A): tf.Tensor | tf.Tensor[] | MaskedOutputs;

  /**
   * The output mask(s) for these inputs and input mask(s). The default passes
   * the mask through when `supportsMasking`, and returns null otherwise.
   */
  computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: MaskArg): MaskArg {
    return this.supportsMasking ? (mask ?? null) : null;
  }

  /**
   * The output spec(s) (shape, dtype, mask) for these input specs, without
   * running anything: `args.mask` holds the mask specs the call would get.
   * Return an input's mask spec object to pass that mask on, or a new
   * `{ shape }` for a mask this layer makes. Built-in layers declare it; the
   * default returns null, and the layer is then traced on made-up tensors.
   */
  computeOutputSpec(_inputs: TensorSpec | TensorSpec[], _args: SpecArgs<A>): TensorSpec | TensorSpec[] | null {
    return null;
  }

  /** The layer's options, as given to its constructor with the defaults filled in (Keras names in camelCase). */
  getConfig(): BaseLayerArgs & Record<string, unknown> {
    const c: BaseLayerArgs & Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) {
      c.inputShape = this.batchInputShape.slice(1);
      if (this.batchInputShape[0] !== null) c.batchSize = this.batchInputShape[0];
      if (this.inputDtype) c.inputDtype = this.inputDtype;
    }
    const cls = this.constructor as unknown as LayerClass;
    return cls.options === null ? c : { ...c, ...(this.args as Record<string, unknown>) };
  }

  /** Output shape(s) for an input shape (float32 inputs without masks). */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const mk = (s: Shape): TensorSpec => ({ shape: s, dtype: 'float32', mask: null });
    const ins = Array.isArray(inputShape[0]) || inputShape.length === 0 ? (inputShape as Shape[]).map(mk) : mk(inputShape as Shape);
    this.maybeBuild(Array.isArray(ins) ? ins.map((x) => x.shape) : ins.shape);
    const r = withMaskPolicy('ignore', () => this.outputSpecs(ins, {}));
    return r.outputs.length === 1 && !r.multi ? r.outputs[0]!.shape : r.outputs.map((o) => o.shape);
  }

  // ---- weights ----

  /** Creates a weight named `name` (Keras path `<layer path>/<name>`). */
  addWeight(name: string, shape: number[], opts: WeightOptions = {}): tf.Variable {
    const dtype = opts.dtype ?? 'float32';
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > MAX_WEIGHT_SIZE) {
      throw new MasqueError(
        'INVALID_CONFIG',
        `Layer '${this.name}' (${this.className}): the weight '${name}' of shape ${formatShape(shape)} would hold ${size.toExponential(3)} values; a weight holds at most 2^30 (${MAX_WEIGHT_SIZE.toLocaleString('en-US')}, 4 GiB of float32), the most Node allocates in one buffer. Check the layer's sizes (units, inputDim, outputDim, ...).`,
      );
    }
    const init = getInitializer(opts.initializer ?? 'glorotUniform', `${this.name}.${name}`);
    const regularizer = getRegularizer(opts.regularizer ?? null, `${this.name}.${name}`);
    const constraint = getConstraint(opts.constraint ?? null, `${this.name}.${name}`);
    const value = tf.tidy(() => {
      const v = init(shape, dtype);
      return v.dtype === dtype ? v : tf.cast(v, dtype);
    });
    const trainable = opts.trainable ?? true;
    const variable = tf.variable(value, trainable, `masque/${this.name}/${name}_${++variableCounter}`, dtype);
    value.dispose();
    this.ownWeights.push(new LayerWeight(this as unknown as Layer, name, variable, trainable, regularizer, constraint));
    return variable;
  }

  /**
   * Adds a scalar loss of this call (activity regularization), as Keras's
   * `add_loss`. It counts only where losses are collected (training,
   * evaluation, `collectLosses`); elsewhere `loss` is not even computed.
   */
  protected addLoss(loss: () => tf.Tensor): void {
    if (collectingLosses()) recordLoss(loss());
  }

  /** The penalties of the trainable weights that have a regularizer (Keras's weight regularization losses), one scalar each. */
  regularizationLosses(): tf.Scalar[] {
    return this.trainableWeights.filter((w) => w.regularizer !== null).map((w) => w.regularizer!(w.variable));
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

  /** Frees the weights (of this layer and the layers in it), what the layers owning them keep for them (`releaseCaches`), and the states stateful layers carry. */
  dispose(): void {
    const weights = this.weights;
    for (const owner of new Set(weights.map((w) => w.owner))) owner.releaseCaches();
    for (const w of weights) w.variable.dispose();
    for (const l of this.layerTree()) l.carriedStates()?.dispose();
  }

  /** @internal The states a stateful recurrent layer carries from call to call (`stateful: true`); null for every other layer. */
  carriedStates(): CarriedStates | null {
    return null;
  }

  /** @internal This layer and every layer inside it (sub-layers; a model's layers), recursively, each once. */
  layerTree(): Layer<CallArgs, boolean>[] {
    const seen = new Set<Layer<CallArgs, boolean>>();
    const visit = (l: Layer<CallArgs, boolean>) => {
      if (seen.has(l)) return;
      seen.add(l);
      for (const c of l.innerLayers()) visit(c);
    };
    visit(this as unknown as Layer<CallArgs, boolean>);
    return [...seen];
  }

  /** The layers directly inside this one: its sub-layers (a model: its graph's layers). */
  protected innerLayers(): Layer<CallArgs, boolean>[] {
    return this.children;
  }

  /** Frees what this layer keeps computed from its weights (the recurrent layers' projection tables); `dispose` calls it on every layer whose weights it frees. */
  protected releaseCaches(): void {}

  // ---- apply ----

  /** Calls the layer on symbolic inputs (building a graph) or on tensors. */
  apply(inputs: SymbolicTensor | SymbolicTensor[], args?: SymbolicArgs<A>): Out<SymbolicTensor, M>;
  apply(inputs: tf.Tensor | tf.Tensor[], args?: A): Out<tf.Tensor, M>;
  apply(inputs: unknown, argsIn?: unknown): unknown {
    const args = callArgsObject(argsIn, `Layer '${this.name}' (${this.className})`);
    checkCallArgNames(this as unknown as Layer, args);
    // Both walked whole (not ||): each refuses a value that contains itself.
    const symbolicInputs = containsSymbolic(inputs, `Layer '${this.name}' (${this.className}): the inputs`);
    const symbolicArgs = containsSymbolic(args, `Layer '${this.name}' (${this.className}): the call arguments`);
    if (symbolicInputs || symbolicArgs) {
      const { outputs, multi } = this.symbolicApply(inputs as SymbolicTensor | SymbolicTensor[], args);
      return multi ? outputs : outputs[0];
    }
    return this.applyConcrete(inputs as tf.Tensor | tf.Tensor[], args as A);
  }

  /** Builds the layer for these input shapes unless it is built. */
  maybeBuild(shapes: Shape | Shape[]): void {
    if (this.built) return;
    this.build(shapes);
    this.built = true;
  }

  /** Where the masks this layer makes come from, for messages. */
  private get ownOrigin(): MaskOrigin {
    const detail = (this.constructor as unknown as LayerClass).maskDetail?.(this as unknown as Layer<CallArgs, boolean>);
    return detail === undefined ? { layerName: this.name, className: this.className } : { layerName: this.name, className: this.className, detail };
  }

  /** Inputs every declared layer refuses, checked before it builds: scalars (no batch axis; operations take them) and, unless it takes text, strings. */
  private checkInputKinds(list: tf.Tensor[]): void {
    const cls = this.constructor as unknown as { acceptsStrings: boolean; checksInputSpecs: boolean; isOperation: boolean };
    if (!cls.checksInputSpecs) return;
    for (const t of list) {
      // Operations (ops.sum(x) then ops.greater(s, 0)) take scalars as numpy does; layers need a batch axis.
      if (t.rank === 0 && !cls.isOperation) throw new MasqueError('INPUT_SHAPE_MISMATCH', `Layer '${this.name}' (${this.className}) expects inputs with a batch axis; received a scalar (shape []).`);
      if (t.dtype === 'string' && !cls.acceptsStrings) {
        throw new MasqueError('INVALID_INPUT', `Layer '${this.name}' (${this.className}) expects numeric inputs; received a string tensor of shape ${formatShape(t.shape)}. Map text to ids first (TextVectorization, StringLookup).`);
      }
    }
  }

  /**
   * The class at each position of this layer's output, as `predictClasses`
   * takes it: the index of the largest value along the output's last axis
   * (int32, the output's shape without that axis; tf.argMax's rule: the
   * first of equal values, NaN never larger), with the output's mask
   * attached. Runs as `apply` does (building, masks, checks), but through
   * `callClasses` where the layer finds its classes without its whole
   * output (Dense: from its logits); for layers with one output of rank 2
   * or more.
   */
  applyClasses(inputs: tf.Tensor | tf.Tensor[], args?: A): tf.Tensor {
    return this.applyConcrete(inputs, (args ?? {}) as A, true) as tf.Tensor;
  }

  /**
   * The classes of this layer's output (see `applyClasses`), found without
   * computing the output where the layer knows how, or null: then `call`
   * runs and the argmax is taken of its output. Return the classes (int32,
   * the output's shape without its last axis), or `withMasks(classes,
   * mask)` to give them a mask other than `computeMask`'s.
   */
  callClasses(_inputs: tf.Tensor | tf.Tensor[], _args: A): tf.Tensor | MaskedOutputs | null {
    return null;
  }

  /** `callClasses`, else `call` and the argmax of its one output. */
  private classesWithContext(inputs: tf.Tensor | tf.Tensor[], args: A): tf.Tensor | MaskedOutputs {
    const own = this.callClasses(inputs, args);
    if (own !== null) return own;
    const result = this.callWithContext(inputs, args);
    const outputs = result instanceof MaskedOutputs ? result.outputs : result;
    const single = Array.isArray(outputs) ? (outputs.length === 1 ? outputs[0]! : null) : outputs;
    if (single === null) {
      throw new MasqueError('INVALID_ARGUMENT', `Layer '${this.name}' (${this.className}): classes need one output; the layer returned ${(outputs as tf.Tensor[]).length}.`);
    }
    const classes = argmaxClasses(single, `Layer '${this.name}' (${this.className})`);
    return result instanceof MaskedOutputs ? new MaskedOutputs(classes, result.masks) : classes;
  }

  private applyConcrete(inputs: tf.Tensor | tf.Tensor[], args: A, classes = false): tf.Tensor | tf.Tensor[] {
    const list = checkTensors(inputs, this);
    this.checkInputKinds(list);
    this.maybeBuild(Array.isArray(inputs) ? list.map((t) => t.shape) : list[0]!.shape);
    const explicit = args.mask !== undefined;
    let mask: MaskArg = explicit ? args.mask! : collectMasks(inputs);
    if (explicit) markExplicit(mask, this);
    if (!this.supportsMasking && hasMask(mask)) mask = this.onUnsupportedMask(mask);
    checkMasks(mask, inputs, this);
    if ((this.constructor as unknown as { checksInputSpecs: boolean }).checksInputSpecs) this.checkInputSpecs(inputs, mask, args);
    const training = args.training ?? currentTraining() ?? false;
    const origin = this.ownOrigin;
    let multi = false;
    let nOut = 0;
    const maskSlots: (number | null)[] = [];
    const flat = withTraining(training, () =>
      tf.tidy(() => {
        const callArgs = { ...args, mask, training };
        const result = classes ? this.classesWithContext(this.floatInputs(inputs), callArgs) : this.callWithContext(this.floatInputs(inputs), callArgs);
        const outputs = result instanceof MaskedOutputs ? result.outputs : result;
        const masks = result instanceof MaskedOutputs ? result.masks : this.computeMask(inputs, mask);
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

  /**
   * Runs `call`. A layer with user code (a custom layer, Lambda) that
   * throws something other than a MasqueError gets it rethrown as
   * LAYER_CALL_FAILED naming the layer, its class and the input shapes, with
   * the original error as `cause` (Keras: "Exception encountered when
   * calling MyLayer.call()").
   */
  private callWithContext(inputs: tf.Tensor | tf.Tensor[], args: A): tf.Tensor | tf.Tensor[] | MaskedOutputs {
    const cls = this.constructor as unknown as LayerClass & { runsUserCode: boolean };
    if (cls.options !== null && !cls.runsUserCode) return this.call(inputs, args);
    try {
      return this.call(inputs, args);
    } catch (e) {
      if (e instanceof MasqueError) throw e;
      const shapes = (Array.isArray(inputs) ? inputs : [inputs]).map((t) => formatShape(t.shape)).join(', ');
      throw new MasqueError('LAYER_CALL_FAILED', `Layer '${this.name}' (${this.className}) failed in call() on inputs of shape ${shapes}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** The inputs as `call` gets them: float32 where the class computes in float (see `floatInputs`). */
  private floatInputs(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const cls = this.constructor as unknown as LayerClass & { floatInputs: boolean };
    if (!cls.floatInputs || cls.options === null) return inputs;
    const cast = (t: tf.Tensor) => (t.dtype === 'int32' || t.dtype === 'bool' ? tf.cast(t, 'float32') : t);
    return Array.isArray(inputs) ? inputs.map(cast) : cast(inputs);
  }

  /**
   * Checks a call's inputs at the door: the declared output spec of these
   * inputs must be computable, so shape and dtype errors are MasqueErrors
   * naming this layer, raised before any tfjs op runs.
   */
  private checkInputSpecs(inputs: tf.Tensor | tf.Tensor[], mask: MaskArg, args: A): void {
    const spec = (t: tf.Tensor): TensorSpec => ({ shape: t.shape, dtype: t.dtype, mask: null });
    const maskSpec = (m: tf.Tensor | null | undefined): MaskSpec | null => {
      const origin = m ? maskOrigin(m) : undefined;
      return m ? (origin === undefined ? { shape: m.shape } : { shape: m.shape, origin }) : null;
    };
    const specArgs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args as Record<string, unknown>)) if (k !== 'mask') specArgs[k] = mapTensors(v, spec);
    specArgs['mask'] = Array.isArray(mask) ? mask.map(maskSpec) : maskSpec(mask);
    specArgs['training'] = false;
    this.computeOutputSpec(Array.isArray(inputs) ? inputs.map(spec) : spec(inputs), specArgs as SpecArgs<A>);
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
    this.dropMask(describeOrigin(maskOrigin(first)));
    return Array.isArray(mask) ? mask.map(() => null) : null;
  }

  /** Applies the mask policy to a mask this layer cannot use (`from` describes it): raise, warn once, or drop silently. */
  private dropMask(from: string): void {
    const policy = getMaskPolicy();
    if (policy === 'error') throw this.maskNotSupportedError(from);
    if (policy === 'warn' && !this.warnedMask) {
      this.warnedMask = true;
      warn(`Layer '${this.name}' (${this.className}) does not support masking; dropping ${from}. Padded steps are processed as data.`);
    }
  }

  /** Builds the layer and records a node whose outputs are symbolic tensors with the specs `outputSpecs` gives. */
  private symbolicApply(inputs: SymbolicTensor | SymbolicTensor[], args: Record<string, unknown>): { outputs: SymbolicTensor[]; multi: boolean } {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    for (const s of list) {
      if (!isSymbolic(s)) {
        throw new MasqueError('INVALID_INPUT', `Layer '${this.name}' (${this.className}): cannot mix symbolic inputs (from Input) and tensors in one call; received ${describe(s)}.`);
      }
    }
    const cls = this.constructor as unknown as { acceptsStrings: boolean; checksInputSpecs: boolean };
    const text = list.find((s) => s.dtype === 'string');
    if (text !== undefined && cls.checksInputSpecs && !cls.acceptsStrings) {
      throw new MasqueError('INVALID_INPUT', `Layer '${this.name}' (${this.className}) expects numeric inputs; received the string tensor '${text.name}' of shape ${formatShape(text.shape)}. Map text to ids first (TextVectorization, StringLookup).`);
    }
    this.maybeBuild(Array.isArray(inputs) ? list.map((s) => s.shape) : list[0]!.shape);
    const specs = list.map((s) => s.spec);
    const argSpecs = symbolicArgSpecs(args);
    // A dropped mask is recorded on the node, not raised: the model that
    // contains the node applies its own mask policy when it is built.
    const r = withMaskPolicy('ignore', () => this.outputSpecs(Array.isArray(inputs) ? specs : specs[0]!, argSpecs));
    const node: Node = { layer: this as unknown as Layer, inputs, args, outputs: [], multiOutput: r.multi, dropsMask: r.dropsMask };
    node.outputs = r.outputs.map((o, k) => new SymbolicTensor(o.shape, o.dtype, node, k, o.mask, r.outputs.length === 1 ? this.name : `${this.name}:${k}`));
    this.inboundNodes.push(node);
    return { outputs: node.outputs, multi: r.multi };
  }

  /**
   * The output specs of a call on inputs with these specs (`args` as the
   * call would get them, tensors replaced by specs; an explicit `mask` holds
   * mask specs). Applies the mask policy in force to a mask this layer
   * cannot use (recording it in `dropsMask`). Runs nothing, unless the
   * layer declares no `computeOutputSpec`: then it is traced.
   */
  outputSpecs(inputs: TensorSpec | TensorSpec[], args: Record<string, unknown>): SpecResult {
    let mask: MaskSpecArg = args['mask'] !== undefined ? (args['mask'] as MaskSpecArg) : collectMaskSpecs(inputs);
    let dropsMask: string | null = null;
    if (!this.supportsMasking && hasMask(mask)) {
      const first = (Array.isArray(mask) ? mask : [mask]).find((m): m is MaskSpec => m !== null && m !== undefined)!;
      dropsMask = describeOrigin(first.origin);
      this.dropMask(dropsMask);
      mask = Array.isArray(mask) ? mask.map(() => null) : null;
    }
    const specArgs = { ...args, mask, training: false } as SpecArgs<A>;
    const declared = this.computeOutputSpec(inputs, specArgs);
    const result = declared ?? this.trace(inputs, specArgs);
    const multi = Array.isArray(result);
    const origin = this.ownOrigin;
    // A mask spec without an origin is one this layer makes; so is a mask it passes on that no longer fits its output (the layer is to blame, not the mask's first maker).
    const outputs = (multi ? result : [result]).map((o) => (o.mask !== null && (o.mask.origin === undefined || !maskFits(o.mask.shape, o.shape)) ? { ...o, mask: { ...o.mask, origin } } : o));
    return { outputs, multi, dropsMask };
  }

  /** Output specs found by running the layer on made-up tensors of two time lengths (for layers without `computeOutputSpec`). */
  private trace(inputs: TensorSpec | TensorSpec[], args: SpecArgs<A>): TensorSpec | TensorSpec[] {
    // A mask that cannot describe its input is reported on the specs (unknown dims as null), naming its maker, not on made-up probe sizes.
    const ins = Array.isArray(inputs) ? inputs : [inputs];
    const masks = Array.isArray(args.mask) ? args.mask : ins.map(() => args.mask as MaskSpec | null);
    ins.forEach((s, i) => {
      const m = masks[i];
      if (m) checkMaskShape(m.shape, s.shape, `Layer '${this.name}' (${this.className})${ins.length > 1 ? `, input ${i}` : ''}`, describeOrigin(m.origin));
    });
    const probes = PROBE_SIZES.map((p) => this.probe(inputs, args, p));
    const [a, b] = probes as [ProbeResult, ProbeResult];
    const merge = (x: number[], y: number[]): Shape => x.map((d, i) => (d === y[i] ? d : null));
    const outs = a.shapes.map((s, k): TensorSpec => {
      const ma = a.masks[k]!;
      const mb = b.masks[k]!;
      const mask = ma && mb ? (ma.origin === undefined ? { shape: merge(ma.shape, mb.shape) } : { shape: merge(ma.shape, mb.shape), origin: ma.origin }) : null;
      return { shape: merge(s, b.shapes[k]!), dtype: a.dtypes[k]!, mask };
    });
    return a.multi ? outs : outs[0]!;
  }

  private probe(inputs: TensorSpec | TensorSpec[], args: SpecArgs<A>, size: number): ProbeResult {
    let result: ProbeResult | undefined;
    tf.tidy(() => {
      const make = (s: TensorSpec): tf.Tensor => {
        const shape = s.shape.map((d) => d ?? size);
        const t = s.dtype === 'bool' ? tf.ones(shape, 'bool') : s.dtype === 'string' ? tf.fill(shape, '', 'string') : tf.zeros(shape, s.dtype);
        // An unknown mask dim takes the input's dim where that is known, so a mask that fits the input fits the probe.
        if (s.mask) attachMask(t, tf.ones(s.mask.shape.map((d, i) => d ?? s.shape[i] ?? size), 'bool'), s.mask.origin);
        return t;
      };
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const madeMask = (m: MaskSpec | null, i: number) => {
        if (m === null) return null;
        const t = tf.ones(m.shape.map((d, k) => d ?? list[i]?.shape[k] ?? size), 'bool');
        // The made-up mask stands for the real one: it keeps its origin (a layer that passes it on is not its maker).
        if (m.origin !== undefined) setMaskOrigin(t, m.origin);
        return t;
      };
      const ins = Array.isArray(inputs) ? inputs.map(make) : make(inputs);
      const a: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
        if (k === 'mask') a[k] = Array.isArray(v) ? v.map((m, i) => madeMask(m as MaskSpec | null, i)) : madeMask(v as MaskSpec | null, 0);
        else a[k] = mapSpecs(v, make);
      }
      const out = withTraining(false, () => withMaskPolicy('ignore', () => this.applyConcrete(ins, { ...(a as A), training: false })));
      const outs = Array.isArray(out) ? out : [out];
      result = {
        shapes: outs.map((o) => o.shape),
        dtypes: outs.map((o) => o.dtype),
        masks: outs.map((o) => {
          const m = getMask(o);
          const origin = m ? maskOrigin(m) : undefined;
          return m ? (origin?.layerName === this.name ? { shape: m.shape } : { shape: m.shape, origin }) : null;
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
  masks: ({ shape: number[]; origin?: MaskOrigin } | null)[];
  multi: boolean;
}

function isTensorSpec(v: unknown): v is TensorSpec {
  return v !== null && typeof v === 'object' && Array.isArray((v as TensorSpec).shape) && typeof (v as TensorSpec).dtype === 'string' && 'mask' in (v as object);
}

/** A layer call's arguments as an object: undefined and null are none; anything but an object is INVALID_ARGUMENT naming `where`. */
export function callArgsObject(argsIn: unknown, where: string): Record<string, unknown> {
  if (argsIn === undefined || argsIn === null) return {};
  if (typeof argsIn !== 'object' || Array.isArray(argsIn)) {
    throw new MasqueError('INVALID_ARGUMENT', `${where}: the call arguments must be an object such as { training, mask }; received ${describe(argsIn)}.`);
  }
  return argsIn as Record<string, unknown>;
}

/** The call arguments every layer takes. */
export const BASE_CALL_ARGS: readonly string[] = ['training', 'mask'];

/** Keras's spellings of call arguments, refused by every layer (a custom layer that declares none included): Masque's are camelCase. */
const KERAS_CALL_SPELLINGS = ['initial_state', 'attention_mask', 'use_causal_mask', 'return_attention_scores', 'query_mask', 'value_mask', 'key_mask'];

/**
 * Refuses a call argument the layer does not take: every key but those its
 * class declares in its own static `callArgNames` (Masque's classes declare
 * theirs, src/io/keras_registry.ts), or, for a class that declares none (a
 * custom layer), one of Keras's snake_case spellings. A misspelt
 * `attentionMask` or a Keras `attention_mask` would otherwise be ignored.
 */
function checkCallArgNames(layer: Layer, args: Record<string, unknown>): void {
  const cls = layer.constructor as { callArgNames?: readonly string[] | null };
  const declared = Object.prototype.hasOwnProperty.call(cls, 'callArgNames') ? (cls.callArgNames ?? null) : null;
  for (const key of Object.keys(args)) {
    if (declared === null ? !KERAS_CALL_SPELLINGS.includes(key) : declared.includes(key)) continue;
    const valid = declared ?? BASE_CALL_ARGS;
    const near = closestOption(key, valid) ?? (declared === null ? key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) : null);
    throw new MasqueError(
      'INVALID_ARGUMENT',
      `Layer '${layer.name}' (${layer.className}): unknown call argument '${key}'.${near === null ? '' : ` Did you mean ${near}?${/_/.test(key) ? " (Masque spells Keras's call arguments in camelCase.)" : ''}`}${declared === null ? '' : ` It takes ${declared.join(', ')}.`}`,
    );
  }
}

/** Replaces every tensor inside `v` (lists) with `f(tensor)`. */
function mapTensors(v: unknown, f: (t: tf.Tensor) => TensorSpec): unknown {
  if (v instanceof tf.Tensor) return f(v);
  if (Array.isArray(v)) return v.map((x) => mapTensors(x, f));
  return v;
}

/** Replaces every tensor spec inside `v` (lists and plain objects) with `f(spec)`. */
function mapSpecs(v: unknown, f: (s: TensorSpec) => tf.Tensor): unknown {
  if (isTensorSpec(v)) return f(v);
  if (Array.isArray(v)) return v.map((x) => mapSpecs(x, f));
  return v;
}

/** The input masks' specs: one, or a list (null when no input has one). */
function collectMaskSpecs(inputs: TensorSpec | TensorSpec[]): MaskSpecArg {
  if (!Array.isArray(inputs)) return inputs.mask;
  const ms = inputs.map((s) => s.mask);
  return ms.every((m) => m === null) ? null : ms;
}

/**
 * The call arguments of a symbolic call with their symbolic tensors as
 * specs; an explicit symbolic `mask` becomes mask specs whose origin is the
 * layer that made the mask tensor.
 */
function symbolicArgSpecs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const asMask = (m: unknown): MaskSpec | null => {
    if (m === null || m === undefined) return null;
    if (!isSymbolic(m)) throw new MasqueError('MASK_INVALID', `an explicit mask in a symbolic call must be a symbolic tensor (or null); received ${describe(m)}.`);
    const layer = m.node?.layer;
    return layer === undefined ? { shape: m.shape } : { shape: m.shape, origin: { layerName: layer.name, className: layer.className, detail: 'explicit mask argument' } };
  };
  for (const [k, v] of Object.entries(args)) {
    if (k === 'mask' && v !== undefined) out[k] = Array.isArray(v) ? v.map(asMask) : asMask(v);
    else out[k] = mapSymbolic(v, (s) => s.spec);
  }
  return out;
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

function hasMask(mask: MaskArg | MaskSpecArg | undefined): boolean {
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
  validateMask(m, input, where, describeOrigin(maskOrigin(m)));
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
  if (!Array.isArray(values)) throw new MasqueError('INVALID_ARGUMENT', `${where}: setWeights expects a list of ${weights.length} arrays or tensors, in weights order; received ${describe(values)}.`);
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

/**
 * The argmax over the last axis of `t` (int32; tf.argMax's rule), for the
 * classes of an output: `where` names the layer or model in the error for
 * an output without a class axis.
 */
export function argmaxClasses(t: tf.Tensor, where: string): tf.Tensor {
  if (t.rank < 2) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: classes are taken along the last axis of an output of rank 2 or more (batch, ..., classes); received an output of shape ${formatShape(t.shape)}.`);
  }
  if (t.shape[t.rank - 1] === 0) {
    throw new MasqueError('INPUT_SHAPE_MISMATCH', `${where}: classes need at least one class; received an output of shape ${formatShape(t.shape)}.`);
  }
  return tf.argMax(t, -1);
}
