/**
 * Hashing: values -> bins, as Keras 3.15.1's `keras.layers.Hashing`. Each
 * value is hashed as a string (numbers as int64 decimal digits, floats cut
 * toward zero first) with FarmHash's Fingerprint64, or with SipHash keyed by
 * `salt` when one is given, and taken modulo `numBins` (TensorFlow's
 * `to_hash_bucket_fast` / `to_hash_bucket_strong`; see ops/string_hash.ts).
 *
 * - `maskValue`: values equal to it go to bin 0 and the others to
 *   1 + hash mod (numBins - 1), so an `Embedding({ maskZero: true })` after
 *   it masks them (with numBins 1 there is no bin to spare and nothing is
 *   set apart, as in Keras).
 * - `outputMode` 'int' (default): int32 bins of the input's shape (Keras:
 *   int64); 'one_hot', 'multi_hot', 'count': float32 rows of numBins (int32
 *   with an integer `dtype`), as the lookup layers encode ids
 *   (lookup_modes.ts: a [batch, k] input for 'multi_hot' and 'count'). The
 *   value of `maskValue` is encoded too, at bin 0, as in Keras.
 * - Takes string, int32 or float32 tensors; makes no mask (Keras's makes
 *   none).
 */
import { tf } from '../../runtime/tfjs.js';
import { Layer } from '../../engine/layer.js';
import { opt, type Filled, type OptionsOf } from '../../engine/options.js';
import { oneSpec } from '../../engine/specs.js';
import type { BaseLayerArgs, CallArgs, Shape, TensorSpec } from '../../engine/types.js';
import { MasqueError, describe } from '../../errors.js';
import { MAX_BUCKETS, hashBuckets, integerString, readSalt } from '../../ops/string_hash.js';
import { dtypeError } from './index_lookup.js';
import { NO_SPARSE, encodeIds, encodingShapeError, idRows, lookupOutputShape } from './lookup_modes.js';

export type HashingOutputMode = 'int' | 'one_hot' | 'multi_hot' | 'count';

export interface HashingArgs extends BaseLayerArgs {
  /** The number of bins (maskValue's bin included). */
  numBins: number;
  /** A value (string or number) that goes to bin 0; null (default) = none. */
  maskValue?: string | number | null;
  /** SipHash key instead of FarmHash: an integer s (the key [s, s]) or a pair; null (default) = FarmHash. */
  salt?: number | readonly [number, number] | null;
  /** 'int' (default), 'one_hot', 'multi_hot' or 'count'. */
  outputMode?: HashingOutputMode;
  /** Only false. */
  sparse?: boolean;
  /** Keras's dtype: 'int64' or 'int32' ('int' mode, default 'int64'; Masque's bins are int32); 'float32' (the other modes' default) or an integer dtype for int32 encodings. */
  dtype?: 'int64' | 'int32' | 'float32' | null;
}

type Own = Omit<HashingArgs, keyof BaseLayerArgs>;

export class Hashing extends Layer<CallArgs> {
  static override readonly className = 'Hashing';
  static override readonly acceptsStrings = true;
  static override readonly floatInputs = false;
  static override readonly options = {
    // Bins are int32 ids (Keras: int64).
    numBins: opt.int({ min: 1, max: MAX_BUCKETS }),
    maskValue: opt.custom<string | number | null>(
      (v, w, n) => {
        if (v === null || typeof v === 'string' || Number.isFinite(v)) return v as string | number | null;
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be a string, a finite number or null; received ${describe(v)}.`);
      },
      { default: null },
    ),
    salt: opt.custom<number | readonly [number, number] | null>((v, w, n) => readSalt(v, w, n), { default: null }),
    outputMode: opt.oneOf<HashingOutputMode>(['int', 'one_hot', 'multi_hot', 'count'], 'int'),
    sparse: NO_SPARSE,
    dtype: opt.custom<'int64' | 'int32' | 'float32' | null>(
      (v, w, n) => {
        if (v === null || v === 'int64' || v === 'int32' || v === 'float32') return v;
        throw new MasqueError('INVALID_ARGUMENT', `${w}: ${n} must be 'int64' or 'int32' (outputMode 'int'), 'float32' (the other modes) or null; received ${describe(v)}.`);
      },
      { default: null, kerasKind: 'dtypePolicy' },
    ),
  } satisfies OptionsOf<Own>;
  declare readonly args: Filled<Own> & { salt: [number, number] | null; dtype: 'int64' | 'int32' | 'float32' };

  constructor(args: HashingArgs) {
    super(args);
    const a = this.args as { dtype: string | null; outputMode: HashingOutputMode };
    if (a.dtype === null) a.dtype = a.outputMode === 'int' ? 'int64' : 'float32';
    if (a.outputMode === 'int' && a.dtype === 'float32') {
      throw new MasqueError('INVALID_ARGUMENT', `${this.where}: with outputMode 'int' the dtype must be 'int64' or 'int32' (as in Keras); received 'float32'.`);
    }
  }

  /** The output's dtype: int32 bins, and encodings float32 unless an integer dtype is asked for (Keras: int32 on its numpy backend). */
  private get outputDtype(): 'int32' | 'float32' {
    return this.args.dtype === 'float32' ? 'float32' : 'int32';
  }

  private get where(): string {
    return `Hashing '${this.name}'`;
  }

  /** The bin of each value of `x` (int32, the input's shape). */
  bins(x: tf.Tensor): Int32Array {
    const { numBins, maskValue, salt } = this.args;
    const values = Array.from(x.dataSync() as unknown as ArrayLike<string | number>);
    if (maskValue !== null && values.length > 0 && typeof maskValue !== typeof values[0]) {
      throw new MasqueError('INVALID_INPUT', `${this.where}: maskValue ${describe(maskValue)} is a ${typeof maskValue} but the input is a ${x.dtype} tensor; give a maskValue of the input's kind.`);
    }
    const strings = x.dtype === 'string' ? (values as string[]) : (values as number[]).map((v) => integerString(v, this.where));
    const masked = maskValue !== null && numBins > 1;
    const out = hashBuckets(strings, masked ? numBins - 1 : numBins, salt);
    // Keras compares in the input's dtype: a float32 input meets maskValue rounded to float32.
    const mask = x.dtype === 'float32' && typeof maskValue === 'number' ? Math.fround(maskValue) : maskValue;
    if (masked) for (let i = 0; i < out.length; i++) out[i] = values[i] === mask ? 0 : out[i]! + 1;
    return out;
  }

  call(x: tf.Tensor): tf.Tensor {
    const shape = this.outShape(x.shape);
    const bins = this.bins(x);
    const mode = this.args.outputMode;
    if (mode === 'int') return tf.tensor(bins, x.shape, 'int32');
    const encoded = encodeIds(idRows(bins, x.shape, mode), mode, this.args.numBins, null, this.where);
    return tf.tensor(this.outputDtype === 'int32' ? Int32Array.from(encoded) : encoded, shape as number[], this.outputDtype);
  }

  private outShape(shape: Shape): Shape {
    const mode = this.args.outputMode;
    if (mode === 'int') return shape;
    const out = lookupOutputShape(shape, mode, this.args.numBins);
    if (out === null) throw encodingShapeError(this.where, mode, shape);
    return out;
  }

  override computeOutputSpec(inputs: TensorSpec | TensorSpec[]): TensorSpec {
    const x = oneSpec(inputs, this.where);
    if (x.dtype !== 'string' && x.dtype !== 'int32' && x.dtype !== 'float32') throw dtypeError(this, 'strings or numbers (a string, int32 or float32 tensor)', x);
    return { shape: this.outShape(x.shape), dtype: this.outputDtype, mask: null };
  }
}
