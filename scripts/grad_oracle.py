#!/usr/bin/env python3
"""Directional derivatives of Keras models, in float64, for Masque's gradients.

Run through the Keras oracle (numpy backend), never in `npm test`:

  ../shared/keras-oracle/py scripts/grad_oracle.py CASES_DIR OUT_DIR [--seed N] [--only name,...] [--shard i/n] [--spread N]

(--shard i/n: only the cases whose position in the sorted list is i mod n,
to run n processes side by side; each writes index.i.json. --spread N: also
record, per direction, `spread`: how far D moves over N draws of every
weight moved by at most half a float32 ulp, the size of one rounding; and
`spread_outputs`: the same with every layer's output also moved by at most
half an ulp (each call, so every step of a recurrent cell), which stands for
the rounding of the activations themselves. Where Masque's distance from D
is within them, float32 cannot decide the case.)

For every `model` case in CASES_DIR (the conformance schema: config,
weights, inputs, output masks), it rebuilds the model from its config with
every dtype policy set to float64, sets the case's weights, and defines the
scalar

    L = sum over outputs o of  sum( r_o * y_o * valid_o )

where r_o is a fixed random array (normal, seeded by the case's name and
--seed) and valid_o is the case's output mask (Keras's, broadcast over the
trailing axes; all ones when the output has none), so only valid positions
count. Numpy's Keras has no gradients, so the derivative of L along a
direction v is taken by central differences D(h) in float64 with Richardson
extrapolation, D = (4 D(h/2) - D(h)) / 3, output by output (each output's
term of L on its own, then summed), with h for each the one of
STEPS / max|v| where |D(h/2) - D(h)| is smallest (`h` lists them). `err`,
the sum over outputs of max(|D(h/2) - D(h)|, eps |term| / (h/2)), bounds
how far D(h) is from the limit (D itself is much closer) and how much
float64 rounding of a large term can hide; where the steps cross a kink
(a relu or max argument within a step of 0: the gap between the one-sided
differences does not shrink as the step halves), half that gap is added,
since autodiff takes one side's slope and differences give their mean.

There is one direction per trainable weight (that weight alone, normal
entries) and one per float input (normal, but zero where the input equals a
Masking layer's mask_value: moving padding would unmask it). OUT_DIR/<case>.json holds r, the
directions, D, err and L; `scripts/grad_fuzz.ts` computes Masque's float32
gradients of the same L and compares g . v with D.

Models are run as the case's call_kwargs say (an explicit mask is passed
to the call; training=False unless it
says training=True): Dropout and noise layers are then the identity, and
BatchNormalization uses its moving statistics unless training. Masque's
gradient pass (tape on) takes its training kernels either way.
"""
import hashlib
import json
import os
import sys

import numpy as np


# Steps tried for each direction and output (over max|v|); the one whose D
# moves least when it is halved is kept. Small steps lose digits to rounding,
# large ones to curvature.
STEPS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def to64(node):
    """The config with every float32 dtype (policies and plain dtypes) made float64."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == 'dtype' and v == 'float32':
                out[k] = 'float64'
            else:
                out[k] = to64(v)
        if out.get('class_name') == 'DTypePolicy' and isinstance(out.get('config'), dict) and out['config'].get('name') == 'float32':
            out['config'] = {**out['config'], 'name': 'float64'}
        return out
    if isinstance(node, list):
        return [to64(v) for v in node]
    return node


def layer_configs(node, class_name):
    """The config of every layer of a class in a model config."""
    found = []
    if isinstance(node, dict):
        if node.get('class_name') == class_name and isinstance(node.get('config'), dict):
            found.append(node['config'])
        for v in node.values():
            found += layer_configs(v, class_name)
    elif isinstance(node, list):
        for v in node:
            found += layer_configs(v, class_name)
    return found


def flat(y):
    """A model's outputs as a flat list (nested lists and tuples, as the case's `outputs`)."""
    if isinstance(y, (list, tuple)):
        return [t for v in y for t in flat(v)]
    return [y]


def mask_values(node):
    """The mask_value of every Masking layer in a config."""
    return [float(c.get('mask_value', 0.0)) for c in layer_configs(node, 'Masking')]


def decode(a, dtype=None):
    data = [float('nan') if v == 'NaN' else float('inf') if v == 'Infinity' else float('-inf') if v == '-Infinity' else v for v in a['data']]
    return np.array(data, dtype=dtype or a['dtype']).reshape(a['shape'])


def arr(x):
    return {'shape': list(x.shape), 'dtype': 'float64', 'data': [float(v) for v in np.asarray(x, dtype=np.float64).ravel()]}


def case_rng(name, seed):
    return np.random.default_rng(int.from_bytes(hashlib.sha256(f'{seed}:{name}'.encode()).digest()[:8], 'little'))


def softmax_axes_as_tuples(keras):
    """Keras saves ops.softmax(x, axis=(1, 2)) with its axes as a list, and its
    numpy backend's max refuses a list: the model Keras builds computes, the
    one it reads back cannot. Read back, the axes are made a tuple again, as
    Keras had them when it made the case."""
    from keras.src.ops import nn
    for cls in (nn.Softmax, nn.LogSoftmax):
        if getattr(cls, '_axes_as_tuples', False):
            continue
        init = cls.__init__

        def patched(self, axis=-1, *args, __init=init, **kwargs):
            __init(self, tuple(axis) if isinstance(axis, list) else axis, *args, **kwargs)
        cls.__init__ = patched
        cls._axes_as_tuples = True


def run_case(keras, case, seed, spread_trials=0):
    softmax_axes_as_tuples(keras)
    model = keras.saving.deserialize_keras_object(to64(case['config']))
    if len(model.weights) != len(case['weights']):
        return None, f"the rebuilt model has {len(model.weights)} weights; the case lists {len(case['weights'])}"
    base = []
    for v, w in zip(model.weights, case['weights']):
        if list(v.shape) != list(w['shape']):
            return None, f"weight {w['name']} has shape {w['shape']}; the rebuilt model's {v.path} has {list(v.shape)}"
        base.append(decode(w, np.float64))
    inputs = []
    for i in case['inputs']:
        x = decode(i)
        inputs.append(x.astype(np.float64) if x.dtype.kind == 'f' else x)
    kw = case.get('call_kwargs') or {}
    if any(k not in ('training', 'mask') for k in kw):
        return None, f"call_kwargs {sorted(kw)} are not supported here"
    # An explicit mask given to the call (one [batch, time] mask for a one-input model).
    call_mask = {} if kw.get('mask') is None else {'mask': np.asarray(kw['mask'], dtype=bool)}
    rng = case_rng(case['name'], seed)
    training = kw.get('training') is True
    if training and any(c.get('renorm') for c in layer_configs(case['config'], 'BatchNormalization')):
        return None, "BatchNormalization's renorm in training takes r and d under stop_gradient: autodiff leaves out a slope that differences see"

    # An adapted Normalization reads its mean and variance through tensors that
    # finalize_state() makes from its weights, not the weights themselves.
    adapted = [l for l in model._flatten_layers() if isinstance(l, keras.layers.Normalization)]

    # Rounding of the activations, for spread_outputs: while ROUND[0] holds a
    # trial number, every layer call's float outputs are multiplied by
    # (1 + u 2^-24), u uniform in [-1, 1], drawn from (trial, k) for the
    # call's k-th output array in the pass, so each pass of a trial draws the
    # same numbers and the model stays smooth in the weights and inputs.
    ROUND = [None, 0]

    def rounded(call):
        def wrapped(*a, **k):
            y = call(*a, **k)
            if ROUND[0] is None:
                return y

            def move(t):
                if isinstance(t, (list, tuple)):
                    return type(t)(move(v) for v in t)
                arr_ = np.asarray(t) if hasattr(t, 'shape') else None
                if arr_ is None or arr_.dtype != np.float64:
                    return t
                ROUND[1] += 1
                u = np.random.default_rng([2000 + ROUND[0], ROUND[1]]).uniform(-1, 1, arr_.shape)
                return arr_ * (1 + u * 2.0 ** -24)
            return move(y)
        return wrapped
    # Sub-layers are flattened too: an RNN's cell (so each step), MultiHeadAttention's projections.
    for l in model._flatten_layers(include_self=False, recursive=True):
        if not isinstance(l, (keras.Model, keras.layers.InputLayer)):
            l.call = rounded(l.call)

    def forward(ws, xs):
        for v, w in zip(model.weights, ws):
            v.assign(w)
        for l in adapted:
            l.finalize_state()
        ROUND[1] = 0
        y = model(xs if len(xs) > 1 else xs[0], training=training, **call_mask)
        return [np.asarray(t, dtype=np.float64) for t in flat(y)]

    FULLY_MASKED_ATTENTION_ROWS[0] = False
    y0 = forward(base, inputs)
    if FULLY_MASKED_ATTENTION_ROWS[0]:
        return None, 'an Attention row has every key masked: float32 rounds its scores away (score - 1e9), so differences see no slope where autodiff has one'
    for k, y in enumerate(flat(model(inputs if len(inputs) > 1 else inputs[0], training=training, **call_mask))):
        if np.asarray(y).dtype != np.float64:
            return None, f"Keras computed output {k} in {np.asarray(y).dtype}, not float64"
    masks = case['output_masks']
    if len(y0) != len(case['outputs']):
        return None, f"float64 model gives {len(y0)} outputs; the case lists {len(case['outputs'])}"
    rs, valid = [], []
    for k, y in enumerate(y0):
        if list(y.shape) != list(case['outputs'][k]['shape']):
            return None, f"float64 output {k} has shape {list(y.shape)}; the case's is {case['outputs'][k]['shape']}"
        m = masks[k] if k < len(masks) else None
        if m is None:
            v = np.ones(y.shape)
        else:
            mm = decode(m, np.float64)
            v = mm.reshape(mm.shape + (1,) * (y.ndim - mm.ndim)) * np.ones(y.shape)
        valid.append(v)
        rs.append(rng.standard_normal(y.shape))

    def terms(ws, xs):
        """L's term of each output: sum(r * y * valid)."""
        ys = forward(ws, xs)
        return np.array([np.sum(r * y * v) for r, y, v in zip(rs, ys, valid)], dtype=np.float64)

    def loss(ws, xs):
        return float(np.sum(terms(ws, xs)))

    t0 = terms(base, inputs)
    l0 = float(np.sum(t0))
    if not np.isfinite(l0):
        return None, f"L is {l0} in float64"

    def directional(move, scale):
        """D and its error, output by output: one output's huge term (an
        exploding recurrence) would otherwise swamp in float64 the change of
        another's. For each output the step of STEPS whose D moves least when
        halved; its error is that move, and never less than the rounding of
        the differences themselves (eps |term| / h).

        A kink (relu, max, abs at an argument within a step of 0) is invisible
        to that error: central differences on both sides of it converge to the
        mean of the two one-sided slopes, while autodiff takes one of them.
        The gap between the one-sided differences tells: it halves with the
        step where the function is smooth (it is h f'') and stays where the
        step crosses a kink (it is the jump in slope). Where it stays, half
        of it is added to the error, so that the direction is reported as
        unresolved rather than compared with the wrong slope."""
        cache = {}

        def at(h):
            """(central difference, gap between the one-sided differences), per output."""
            if h not in cache:
                plus, minus = terms(*move(h)), terms(*move(-h))
                cache[h] = ((plus - minus) / (2 * h), np.abs(plus + minus - 2 * t0) / h)
            return cache[h]
        total, err, steps = 0.0, 0.0, []
        for o in range(len(t0)):
            best = None
            for h in STEPS:
                (d1, g1), (d2, g2) = (v[o] for v in at(h / scale)), (v[o] for v in at(h / scale / 2))
                rounding = 2.3e-16 * abs(t0[o]) / (h / scale / 2)
                e = max(abs(d2 - d1), rounding)
                if g2 > 0.7 * g1 and g2 > 1e3 * rounding:
                    e = max(e, g2 / 2)
                if best is None or e < best[1]:
                    best = ((4 * d2 - d1) / 3, e, h)
            total += best[0]
            err += best[1]
            steps.append(best[2])
        return total, err, steps

    def spread(h, move, trials, outputs=False):
        """How far D moves when every weight (and, with `outputs`, every layer
        output) moves by at most half a float32 ulp (`trials` draws)."""
        d0 = (loss(*move(h)) - loss(*move(-h))) / (2 * h)
        far = 0.0
        for k in range(trials):
            u = np.random.default_rng(1000 + k)
            moved = [w * (1 + u.uniform(-1, 1, w.shape) * 2.0 ** -24) for w in base]

            def at(s):
                ws, xs = move(s)
                return loss([m + (w - b) for m, w, b in zip(moved, ws, base)], xs)
            ROUND[0] = k if outputs else None
            try:
                far = max(far, abs((at(h) - at(-h)) / (2 * h) - d0))
            finally:
                ROUND[0] = None
        return far

    trainable = {id(v) for v in model.trainable_weights}
    directions = []
    for j, v in enumerate(model.weights):
        if id(v) not in trainable:
            continue
        d = rng.standard_normal(base[j].shape)
        directions.append(('weight', j, case['weights'][j]['name'], d))
    held = mask_values(case['config'])
    for j, x in enumerate(inputs):
        if x.dtype.kind == 'f':
            d = rng.standard_normal(x.shape)
            # An input equal to a Masking layer's mask_value (the padding) is
            # not moved: moving it would unmask its step, a jump, not a slope.
            for mv in held:
                d[np.isnan(x) if np.isnan(mv) else x == mv] = 0
            directions.append(('input', j, f'input {j}', d))

    out = []
    for kind, j, name, d in directions:
        scale = max(1e-300, float(np.max(np.abs(d)))) if d.size else 1.0

        def move(s, kind=kind, j=j, d=d):
            ws = list(base)
            xs = list(inputs)
            if kind == 'weight':
                ws[j] = base[j] + s * d
            else:
                xs[j] = inputs[j] + s * d
            return ws, xs

        value, err, steps = directional(move, scale)
        entry = {'kind': kind, 'index': j, 'name': name, 'direction': arr(d),
                 'derivative': value, 'err': err, 'h': steps}
        if spread_trials:
            entry['spread'] = spread(min(steps) / scale, move, spread_trials)
            entry['spread_outputs'] = spread(min(steps) / scale, move, spread_trials, outputs=True)
        out.append(entry)
    for v, w in zip(model.weights, base):
        v.assign(w)
    return {'name': case['name'], 'seed': seed, 'loss': l0, 'r': [arr(r) for r in rs], 'directions': out}, None


def float64_keras():
    """Keras with float64 as its float type everywhere.

    Rewriting the config's dtype policies is not enough: some numpy-backend
    ops promote a float64 tensor and a Python number to float32 (Masking's
    `where(mask, x, 0)`), so result_type is made to answer float64 for
    every float result."""
    import keras
    from keras.src.backend.common import dtypes
    keras.config.set_floatx('float64')
    original = dtypes.result_type

    def result_type(*a, **k):
        t = original(*a, **k)
        return 'float64' if t in ('float16', 'bfloat16', 'float32') else t
    # Modules that imported the function by name keep their own reference.
    for mod in list(sys.modules.values()):
        if getattr(mod, '__name__', '').startswith('keras') and getattr(mod, 'result_type', None) is original:
            mod.result_type = result_type
    dtypes.result_type = result_type
    patch_attention(keras)
    return keras


# Set when an Attention layer met a query row whose keys are all masked.
FULLY_MASKED_ATTENTION_ROWS = [False]


def patch_attention(keras):
    """Two places where float64 Keras does not compute what float32 Keras does.

    - `dot_product_attention` (MultiHeadAttention) casts its logits to
      float32 for the softmax in every dtype, which leaves about 1e-9 of
      rounding noise in a float64 model: here the softmax runs in the
      logits' own dtype. Otherwise the same steps (logits, scale, bias, the
      masks' large negative constant, softmax, weighted values).
    - `Attention` sets a masked score to `score - 1e9`. In float32 that
      rounds the score away (a fully masked row becomes uniform, and its
      scores have no gradient); in float64 the score survives. Masked scores
      are made to give float32's value: fl32(fl32(score) - 1e9). A row
      whose keys are all masked is then uniform, with derivative 0 along any
      direction, but autodiff (Keras on TensorFlow or JAX, and Masque) gives
      the softmax's gradient there: such cases are skipped (reported).
    """
    from keras.src.backend.numpy import nn as npnn
    from keras.src.layers.attention.attention import Attention

    def attention_in_dtype(query, key, value, bias, mask, is_causal, scale):
        logits = np.einsum('BTNH,BSNH->BNTS', query, key)
        logits *= np.array(scale, dtype=logits.dtype)
        if bias is not None:
            logits = (logits + bias).astype(logits.dtype)
        probs = npnn.softmax(npnn._apply_masks(logits, mask, is_causal), axis=-1).astype(key.dtype)
        return np.einsum('BNTS,BSNH->BTNH', probs, value).astype(probs.dtype)
    npnn._dot_product_attention_xla = attention_in_dtype

    original = Attention._apply_scores

    def apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None and np.asarray(scores).dtype == np.float64:
            sc = np.asarray(scores)
            keep = np.broadcast_to(np.asarray(scores_mask) if len(np.shape(scores_mask)) == sc.ndim else np.expand_dims(scores_mask, -2), sc.shape)
            rounded = (sc.astype(np.float32) - np.float32(1e9)).astype(np.float64) + 1e9
            scores = np.where(keep, sc, rounded)
            if not np.all(np.any(keep, axis=-1)):
                FULLY_MASKED_ATTENTION_ROWS[0] = True
        return original(self, scores, value, scores_mask=scores_mask, training=training)
    Attention._apply_scores = apply_scores


def main(argv):
    keras = float64_keras()
    args = [a for a in argv if not a.startswith('--')]
    seed = 0
    only = None
    shard = None
    spread_trials = 0
    for i, a in enumerate(argv):
        if a == '--seed':
            seed = int(argv[i + 1])
            args.remove(argv[i + 1])
        if a == '--only':
            only = argv[i + 1].split(',')
            args.remove(argv[i + 1])
        if a == '--spread':
            spread_trials = int(argv[i + 1])
            args.remove(argv[i + 1])
        if a == '--shard':
            shard = tuple(int(v) for v in argv[i + 1].split('/'))
            args.remove(argv[i + 1])
    src, dst = args
    os.makedirs(dst, exist_ok=True)
    names = sorted(f for f in os.listdir(src) if f.endswith('.json') and f != 'index.json')
    done, skipped = 0, []
    for f in names:
        case = json.load(open(os.path.join(src, f)))
        if case.get('kind') != 'model' or (only and not any(case['name'].startswith(p) for p in only)):
            continue
        if shard is not None and names.index(f) % shard[1] != shard[0]:
            continue
        try:
            res, why = run_case(keras, case, seed, spread_trials)
        except Exception as e:  # a layer Keras cannot run in float64 is reported, not fatal
            res, why = None, f'{type(e).__name__}: {e}'
        if res is None:
            skipped.append({'name': case['name'], 'why': why})
            continue
        with open(os.path.join(dst, f), 'w') as fh:
            json.dump(res, fh)
        done += 1
    with open(os.path.join(dst, 'index.json' if shard is None else f'index.{shard[0]}.json'), 'w') as fh:
        json.dump({'generator': 'scripts/grad_oracle.py', 'seed': seed, 'cases_dir': os.path.basename(os.path.normpath(src)),
                   'keras_version': keras.__version__, 'written': done, 'skipped': skipped}, fh, indent=1)
    print(f'grad_oracle: {done} cases written, {len(skipped)} skipped')
    for s in skipped:
        print(f"  skipped {s['name']}: {s['why']}")


if __name__ == '__main__':
    main(sys.argv[1:])
