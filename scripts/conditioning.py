#!/usr/bin/env python3
"""How much float32 rounding alone moves a conformance case's numbers in Keras.

Run through the Keras oracle (numpy backend, float32), never in `npm test`:

  ../shared/keras-oracle/py scripts/conditioning.py CASE.json [LAYER] [--trials N]

Rebuilds the case's model from its config and weights, then runs it again N
times (default 8) with every weight multiplied by (1 + u 2^-24), u uniform in
[-1, 1]: a change of at most half a unit in the last place, the size of one
float32 rounding. It prints, for each of the model's outputs (or LAYER's,
run as a sub-model), the largest difference from the unperturbed run
in the runner's measure, |a - b| / max(1, |b|).

When that spread is as large as Masque's difference from Keras on the case,
the case cannot tell a correct float32 implementation from a wrong one: its
result is decided by rounding, not by the semantics (an LSTM or GRU with a
linear recurrent activation, whose gates are unbounded, multiplies each
step's rounding error by the next step's gates).
"""
import json
import sys

import numpy as np


def main(argv):
    import keras

    args = [a for a in argv if not a.startswith('--')]
    trials = 8
    if '--trials' in argv:
        trials = int(argv[argv.index('--trials') + 1])
        args = [a for a in args if a != str(trials)]
    path, layer = args[0], (args[1] if len(args) > 1 else None)
    case = json.load(open(path))
    model = keras.saving.deserialize_keras_object(case['config'])
    # A rebuilt model's paths can differ from the case's (nested names), so
    # weights are matched in order, as the case lists `model.weights`.
    if len(model.weights) != len(case['weights']):
        raise SystemExit(f"conditioning: the rebuilt model has {len(model.weights)} weights; the case lists {len(case['weights'])}")
    by_path, base = {}, {}
    for v, w in zip(model.weights, case['weights']):
        if list(v.shape) != list(w['shape']):
            raise SystemExit(f"conditioning: weight {w['name']} has shape {w['shape']}; the rebuilt model's {v.path} has {list(v.shape)}")
        by_path[w['name']] = v
        base[w['name']] = np.array(w['data'], dtype=np.float32).reshape(w['shape'])
    inputs = [np.array(i['data'], dtype=i['dtype']).reshape(i['shape']) for i in case['inputs']]
    target = model
    if layer is not None:
        out = model.get_layer(layer).output
        target = keras.Model(model.inputs, list(out) if isinstance(out, (list, tuple)) else out)

    def run(scale):
        rng = np.random.default_rng(scale)
        for name, w in base.items():
            u = rng.uniform(-1, 1, w.shape) if scale else np.zeros(w.shape)
            by_path[name].assign((w.astype(np.float64) * (1 + u * 2.0 ** -24)).astype(np.float32))
        y = target.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        return [np.asarray(a, dtype=np.float64) for a in (y if isinstance(y, (list, tuple)) else [y])]

    ref = run(0)
    spread = [0.0] * len(ref)
    for t in range(1, trials + 1):
        for k, (a, b) in enumerate(zip(run(t), ref)):
            if a.size:
                spread[k] = max(spread[k], float(np.nanmax(np.abs(a - b) / np.maximum(1, np.abs(b)))))
    what = f"layer '{layer}'" if layer else 'model'
    each = ', '.join(f'output {k} {s:.3e}' for k, s in enumerate(spread))
    print(f"{case['name']}: {what}: largest change from half-ulp weight changes over {trials} trials: {each}")


if __name__ == '__main__':
    main(sys.argv[1:])
