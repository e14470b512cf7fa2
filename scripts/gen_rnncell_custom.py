#!/usr/bin/env python3
"""Golden cases for keras.layers.RNN over CUSTOM cells (Keras 3.15.1, numpy).

gen_more.py covers RNN over the built-in cells; this adds user-written cells
(Layer subclasses with state_size, call(inputs, states) and, for one of them,
output_size), alone, stacked with built-in cells and inside Bidirectional.
Run it through the Keras oracle:

    ../shared/keras-oracle/py scripts/gen_rnncell_custom.py --seed 0 \
        --out test/fixtures/keras-3.15.1-rnncell-custom [--oracle DIR]

`--oracle` is the folder of gen.py / gen_more.py (default: the folder of the
`py` wrapper, $KERAS_ORACLE_DIR, or ../shared/keras-oracle). Schema: the
`custom` kind of the conformance README (custom_layers_python, inputs,
outputs, output_masks), plus
  weights  [{name, shape, data}] in model.weights order, Keras paths;
  config   model.to_json() (the custom cells appear as class_name
           MinimalRNNCell, ... with registered_name "masque>..."), for
           importers that register the custom cells;
  spec     how to rebuild the model: model ("sequential" | "functional"),
           source ("masking" | "embedding"), input_shape, embedding
           {input_dim, output_dim}, rnn {name, return_sequences, return_state,
           go_backwards, zero_output_for_mask, unroll}, bidirectional (null or
           {merge_mode}), cell ({class, name, units, ...} or {class:
           "StackedRNNCells", name, cells: [...]}).

Custom cells with an int state_size are never stacked here: in a
StackedRNNCells Keras 3.15.1 gives such a cell a bare (not list) state, and
its numpy/JAX loop then takes the wrong "previous output" at masked steps
(the first cell's state, or row 0 of the last cell's state). ProjectedRNNCell
(output is not its state) is run with unroll=True: the non-unrolled numpy
loop repeats states[0] at masked steps, which has the wrong size for it.
"""

import argparse
import inspect
import json
import os
import sys
import warnings

import numpy as np


def _oracle_dir(arg):
    for d in (arg, os.environ.get("KERAS_ORACLE_DIR"), "../shared/keras-oracle", "/work/shared/keras-oracle"):
        if d and os.path.exists(os.path.join(d, "gen_more.py")):
            return d
    raise SystemExit("cannot find gen.py / gen_more.py: pass --oracle DIR")


ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--out", required=True)
ap.add_argument("--only", default=None)
ap.add_argument("--oracle", default=None)
ARGS = ap.parse_args()
sys.path.insert(0, _oracle_dir(ARGS.oracle))

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
from keras.src.backend.common.masking import get_keras_mask  # noqa: E402
from gen import Ctx, arr, mask_entry, keras_info, _flat_outputs, _call, _warn_list, _structure, TOL  # noqa: E402
from gen_more import _source_data  # noqa: E402


class MinimalRNNCell(keras.layers.Layer):
    """The cell of Keras's RNN docstring: output = x W + h U, state = output."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        h = ops.matmul(inputs, self.kernel)
        output = h + ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class PeepholeLSTMCell(keras.layers.Layer):
    """An LSTM whose gates also read the carry (peepholes); states [h, c]."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * u), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, 4 * u), name="recurrent_kernel")
        self.peephole = self.add_weight(shape=(3 * u,), initializer="zeros", name="peephole")
        self.bias = self.add_weight(shape=(4 * u,), initializer="zeros", name="bias")

    def call(self, inputs, states):
        h, c = states[0], states[1]
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel) + self.bias
        zi, zf, zc, zo = ops.split(z, 4, axis=-1)
        pi, pf, po = ops.split(self.peephole, 3)
        i = ops.sigmoid(zi + pi * c)
        f = ops.sigmoid(zf + pf * c)
        c2 = f * c + i * ops.tanh(zc)
        o = ops.sigmoid(zo + po * c2)
        h2 = o * ops.tanh(c2)
        return h2, [h2, c2]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class ProjectedRNNCell(keras.layers.Layer):
    """A tanh RNN whose output is its state projected: output_size != state_size."""

    def __init__(self, units, output_units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.output_units = output_units
        self.state_size = units
        self.output_size = output_units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")
        self.projection = self.add_weight(shape=(self.units, self.output_units), name="projection")

    def call(self, inputs, states):
        h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel))
        return ops.matmul(h, self.projection), [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "output_units": self.output_units}


CUSTOM = {"MinimalRNNCell": MinimalRNNCell, "PeepholeLSTMCell": PeepholeLSTMCell, "ProjectedRNNCell": ProjectedRNNCell}
for _cls in CUSTOM.values():
    # Bidirectional copies its layer through its config.
    keras.saving.register_keras_serializable(package="masque")(_cls)


def make_cell(spec):
    cls = spec["class"]
    if cls == "StackedRNNCells":
        return layers.StackedRNNCells([make_cell(c) for c in spec["cells"]])
    if cls in CUSTOM:
        kw = {k: v for k, v in spec.items() if k in ("units", "output_units")}
        return CUSTOM[cls](**kw)
    kw = {"units": spec["units"]}
    if "reset_after" in spec:
        kw["reset_after"] = spec["reset_after"]
    return getattr(layers, cls)(**kw)


def cell_names(cell, spec):
    """Fills the Keras names the cells got into the spec."""
    spec["name"] = cell.name
    if spec["class"] == "StackedRNNCells":
        for c, s in zip(cell.cells, spec["cells"]):
            cell_names(c, s)


def cell_classes(spec):
    if spec["class"] == "StackedRNNCells":
        return [c for s in spec["cells"] for c in cell_classes(s)]
    return [spec["class"]] if spec["class"] in CUSTOM else []


VARIANTS = [
    # suffix, padding, RNN kwargs, source, zero_row, functional
    ("post_padding_sequences", "post", {"return_sequences": True}, "masking", True, False),
    ("pre_padding_last_state", "pre", {}, "masking", False, False),
    ("go_backwards_sequences", "post", {"return_sequences": True, "go_backwards": True}, "masking", False, False),
    ("return_state_post", "post", {"return_sequences": True, "return_state": True}, "masking", True, False),
    ("zero_output_for_mask_sequences", "post", {"return_sequences": True, "zero_output_for_mask": True}, "masking", False, False),
    ("embedding_hole_sequences", "post", {"return_sequences": True}, "embedding", False, True),
    ("unroll_last_state", "post", {"unroll": True}, "masking", True, False),
]

CELLS = [
    ("minimal", lambda U: {"class": "MinimalRNNCell", "units": U}, VARIANTS),
    ("peephole", lambda U: {"class": "PeepholeLSTMCell", "units": U}, VARIANTS),
    ("stacked_lstm_peephole", lambda U: {"class": "StackedRNNCells", "cells": [{"class": "LSTMCell", "units": U}, {"class": "PeepholeLSTMCell", "units": U + 1}]},
     [v for v in VARIANTS if v[0] in ("post_padding_sequences", "go_backwards_sequences", "return_state_post", "zero_output_for_mask_sequences")]),
    ("stacked_peephole_gru", lambda U: {"class": "StackedRNNCells", "cells": [{"class": "PeepholeLSTMCell", "units": U + 1}, {"class": "GRUCell", "units": U}]},
     [v for v in VARIANTS if v[0] in ("post_padding_sequences", "pre_padding_last_state", "return_state_post", "embedding_hole_sequences")]),
    ("projected", lambda U: {"class": "ProjectedRNNCell", "units": U + 1, "output_units": U},
     [("unroll_post_padding_sequences", "post", {"return_sequences": True, "unroll": True}, "masking", True, False),
      ("unroll_go_backwards_sequences", "post", {"return_sequences": True, "go_backwards": True, "unroll": True}, "masking", False, False),
      ("unroll_return_state_pre", "pre", {"return_state": True, "unroll": True}, "masking", True, False)]),
]


def build_case(ctx, name, cell_spec, suffix, padding, kw, source, zero_row, functional, bidirectional=None):
    ctx.start(name)
    F = ctx.E if source == "embedding" else ctx.F
    x, inp, src = _source_data(ctx, source, padding, zero_row, "mid" if source == "embedding" else None, F)
    cell = make_cell(cell_spec)
    rnn = layers.RNN(cell, **kw)
    top = layers.Bidirectional(rnn, **bidirectional) if bidirectional is not None else rnn
    if functional:
        m = keras.Model(inp, top(src(inp)))
    else:
        m = keras.Sequential([inp, src, top])
    ctx.randomize(m)
    with warnings.catch_warnings(record=True) as wl:
        warnings.simplefilter("always")
        outs = _call(m, [x])
    flat = _flat_outputs(outs)
    cell_names(cell, cell_spec)
    spec = {
        "model": "functional" if functional else "sequential",
        "model_name": m.name,
        "source": source,
        "source_name": src.name,
        "input_shape": list(x.shape[1:]),
        "embedding": {"input_dim": ctx.V, "output_dim": F} if source == "embedding" else None,
        "rnn": {"name": rnn.name, "return_sequences": False, "return_state": False, "go_backwards": False, "zero_output_for_mask": False, "unroll": False, **kw},
        "bidirectional": None if bidirectional is None else {"name": top.name, **bidirectional},
        "cell": cell_spec,
    }
    about = f"RNN({cell_spec['class']}) with a custom cell under a mask: {suffix.replace('_', ' ')}"
    return {
        "name": name, "about": about, "kind": "custom", **keras_info(), "backend": keras.backend.backend(), "seed": ctx.seed,
        "custom_layers_python": {c: inspect.getsource(CUSTOM[c]) for c in sorted(set(cell_classes(cell_spec)))},
        "spec": spec,
        "model_class": m.__class__.__name__,
        "config": json.loads(m.to_json()),
        "weights": [{"name": w.path, "shape": list(w.shape), "data": arr(np.asarray(w.numpy()))["data"]} for w in m.weights],
        "inputs": [arr(x)],
        "outputs": [arr(o) for o in flat],
        "output_masks": [mask_entry(get_keras_mask(o)) for o in flat],
        "output_structure": _structure(outs),
        "tolerance": TOL,
        "call_warnings": _warn_list(wl),
    }


def all_cases():
    for tag, mk, variants in CELLS:
        for suffix, padding, kw, source, zero_row, functional in variants:
            yield f"rnncell_custom_{tag}_{suffix}", (lambda ctx, mk=mk, a=(suffix, padding, kw, source, zero_row, functional), n=f"rnncell_custom_{tag}_{suffix}": build_case(ctx, n, mk(ctx.U), *a))
    yield "rnncell_custom_bidirectional_peephole", lambda ctx: build_case(
        ctx, "rnncell_custom_bidirectional_peephole", {"class": "PeepholeLSTMCell", "units": ctx.U}, "bidirectional concat sequences",
        "post", {"return_sequences": True}, "embedding", True, False, bidirectional={"merge_mode": "concat"})


def main():
    os.makedirs(ARGS.out, exist_ok=True)
    ctx = Ctx(ARGS.seed, ARGS.out)
    index = []
    for name, fn in all_cases():
        if ARGS.only and not any(s in name for s in ARGS.only.split(",")):
            continue
        c = fn(ctx)
        with open(os.path.join(ARGS.out, name + ".json"), "w") as f:
            json.dump(c, f, separators=(",", ":"), allow_nan=False)
            f.write("\n")
        index.append({"name": name, "kind": "custom", "family": "rnncell", "about": c["about"]})
    with open(os.path.join(ARGS.out, "index.json"), "w") as f:
        json.dump({**keras_info(), "backend": keras.backend.backend(), "seed": ARGS.seed, "generator": "scripts/gen_rnncell_custom.py",
                   "shape_params": {k: getattr(ctx, k) for k in ("B", "T", "F", "U", "E", "V")}, "cases": index}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(index)} cases to {ARGS.out}")


if __name__ == "__main__":
    main()
