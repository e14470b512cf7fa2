#!/usr/bin/env python3
"""Files Keras writes, read by Masque, on random models (the reverse of
scripts/fuzz_keras_files.ts). Run through the Keras oracle, never in `npm test`:

  ../shared/keras-oracle/py scripts/keras_files_from_cases.py FUZZ_DIR OUT

For each model case of a fuzz folder (`../shared/keras-oracle/fuzz.py`), it
rebuilds the model in Keras from the case's config and weights (matched in
order, as the case lists `model.weights`) and saves it with `model.save` as
OUT/<name>.keras. `npx tsx scripts/load_keras_files.ts FUZZ_DIR OUT` then
loads each file with Masque's `loadModel` and compares its outputs and masks
with the case's.
"""
import json
import os
import sys

import numpy as np


def main(src, out):
    import keras

    os.makedirs(out, exist_ok=True)
    saved = skipped = failed = 0
    for f in sorted(os.listdir(src)):
        if not f.endswith('.json') or f == 'index.json':
            continue
        case = json.load(open(os.path.join(src, f)))
        # A mask given to the call is not part of the file: load_keras_files.ts passes it again.
        if case.get('kind') != 'model' or set(case.get('call_kwargs') or {}) - {'mask'}:
            skipped += 1
            continue
        try:
            model = keras.saving.deserialize_keras_object(case['config'])
            if len(model.weights) != len(case['weights']):
                raise ValueError(f"{len(model.weights)} weights; the case lists {len(case['weights'])}")
            for v, w in zip(model.weights, case['weights']):
                v.assign(np.array(w['data'], dtype=np.float32).reshape(w['shape']))
            model.save(os.path.join(out, case['name'] + '.keras'))
            saved += 1
        except Exception as e:  # reported, then the next case
            failed += 1
            print(f"not saved: {case['name']}: {type(e).__name__}: {str(e)[:300]}")
    print(f'{saved} files written to {out}, {skipped} cases skipped (not plain model calls), {failed} failed')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
