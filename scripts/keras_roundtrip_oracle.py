#!/usr/bin/env python3
"""Keras side of the Keras round-trip fixtures (test/fixtures/keras-roundtrip).

Runs only when the fixtures are regenerated (see the README there), never in
`npm test`. Needs Keras 3.15.1 (the oracle: /work/oracle/py, numpy backend).

  keras_roundtrip_oracle.py all DIR            every step below, each in a fresh process
  keras_roundtrip_oracle.py load DIR NAME      load NAME.keras (written by Masque) in Keras,
                                               run it on NAME.inputs.json -> NAME.keras_outputs.json
  keras_roundtrip_oracle.py native DIR NAME    build the same architecture natively in Keras
                                               (own seeded weights), save NAME.native.keras and
                                               its outputs -> NAME.native_outputs.json

One model per process: Keras names auto-made ops from a process-wide counter,
so a load can succeed only because an earlier load in the same process moved
that counter (notes/keras_export.md).
"""
import json
import os
import subprocess
import sys
import warnings

NAMES = [
    'seq_embedding_bilstm_dense', 'seq_masking_gru_timedistributed', 'fn_core_chain', 'fn_rnn_family', 'fn_initial_state',
    'fn_attention_concatenate', 'fn_mha_preln', 'fn_mha_cross_key', 'fn_conv_pooling_reshaping', 'fn_merging',
    'fn_ops_explicit_masks', 'fn_nested_functional', 'fn_nested_sequential', 'seq_nested_functional', 'fn_shared_layers',
    'fn_same_class_depths', 'fn_rnn_cells', 'fn_normalization', 'fn_attention_gqa_additive', 'fn_activations_regularization',
    'fn_rnn_cells_states', 'fn_layer_options', 'seq_cells_norm',
]


def native(name):
    """The architecture of test/keras_roundtrip_models.ts, built with Keras's own API and the same layer names."""
    import keras
    from keras import layers as L
    from keras.src.ops import numpy as knp

    if name == 'seq_embedding_bilstm_dense':
        return keras.Sequential([
            keras.Input((None,), dtype='int32', name='ids'),
            L.Embedding(10, 4, mask_zero=True, name='emb'),
            L.Bidirectional(L.LSTM(3, name='lstm'), name='bidi'),
            L.Dense(2, name='head'),
        ], name='seq_bilstm')
    if name == 'seq_masking_gru_timedistributed':
        return keras.Sequential([
            keras.Input((None, 3), name='seq_in'),
            L.Masking(name='masking'),
            L.GRU(4, return_sequences=True, name='gru'),
            L.TimeDistributed(L.Dense(2, activation='tanh', name='td_dense'), name='td'),
        ], name='seq_gru_td')
    if name == 'fn_core_chain':
        x = keras.Input((None, 3), name='x')
        h = L.Masking(mask_value=0.0, name='masking')(x)
        h = L.Dense(4, name='dense')(h)
        h = L.Activation('tanh', name='activation')(h)
        h = L.ReLU(name='re_lu')(h)
        h = L.Dropout(0.3, name='dropout')(h)
        h = L.GaussianNoise(0.1, name='gaussian_noise')(h)
        h = L.LayerNormalization(name='layer_normalization')(h)
        seq = L.SimpleRNN(3, return_sequences=True, name='simple_rnn')(h)
        g = L.GlobalAveragePooling1D(name='gap')(seq)
        p = L.Softmax(name='softmax')(g)
        return keras.Model(x, [p, seq], name='core_chain')
    if name == 'fn_rnn_family':
        ids = keras.Input((None,), dtype='int32', name='ids')
        e = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        s = L.SimpleRNN(4, return_sequences=True, go_backwards=True, name='simple_rnn')(e)
        seq, h, c = L.LSTM(3, return_sequences=True, return_state=True, name='lstm')(s)
        last = L.GRU(3, reset_after=False, name='gru')(seq)
        fw, bw = L.Bidirectional(L.GRU(2, return_sequences=True, name='gru_b'), merge_mode=None, name='bidirectional')(seq)
        td = L.TimeDistributed(L.Dense(2, name='td_dense'), name='time_distributed')(fw)
        hc = L.Add(name='add_states')([h, c])
        return keras.Model(ids, [last, td, bw, hc], name='rnn_family')
    if name == 'fn_initial_state':
        ids = keras.Input((None,), dtype='int32', name='ids')
        ctx = keras.Input((5,), name='ctx')
        e = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        h0 = L.Dense(3, activation='tanh', name='init_h')(ctx)
        c0 = L.Dense(3, name='init_c')(ctx)
        seq = L.LSTM(3, return_sequences=True, name='lstm')(e, initial_state=[h0, c0])
        g = L.GRU(3, name='gru')(seq, initial_state=[h0])
        return keras.Model([ids, ctx], [g, seq], name='initial_state')
    if name == 'fn_attention_concatenate':
        fin = keras.Input((None, 3), name='floats')
        tin = keras.Input((None,), dtype='int32', name='tokens')
        s = L.LSTM(4, return_sequences=True, name='lstm')(L.Masking(name='masking')(fin))
        e = L.Embedding(10, 4, mask_zero=True, name='embedding')(tin)
        att = L.Attention(use_scale=True, name='attention')([s, e])
        cat = L.Concatenate()([s, att])  # auto-named 'concatenate' (an explicit name would collide with its mask op's)
        o = L.Dense(3, name='dense')(L.GlobalAveragePooling1D(name='global_average_pooling1d')(cat))
        return keras.Model([fin, tin], [o, cat], name='attention_concat')
    if name == 'fn_mha_preln':
        ids = keras.Input((None,), dtype='int32', name='ids')
        x = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        h = L.LayerNormalization(name='layer_normalization')(x)
        a = L.MultiHeadAttention(num_heads=2, key_dim=2, name='mha')(h, h)
        r = L.Add(name='add')([x, a])
        o = L.Dense(2, name='dense')(L.GlobalAveragePooling1D(name='gap')(r))
        return keras.Model(ids, [o, r], name='mha_preln')
    if name == 'fn_mha_cross_key':
        q = keras.Input((None,), dtype='int32', name='q_ids')
        v = keras.Input((None,), dtype='int32', name='v_ids')
        qe = L.Embedding(10, 4, mask_zero=True, name='q_emb')(q)
        ve = L.Embedding(10, 4, mask_zero=True, name='v_emb')(v)
        qd = L.Dense(4, name='q_proj')(qe)
        kd = L.Dense(4, name='k_proj')(ve)
        vd = L.Dense(4, name='v_proj')(ve)
        a = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, name='cross_mha')(qd, vd, kd)
        g = L.GlobalAveragePooling1D(name='gap')(a)
        return keras.Model([q, v], g, name='mha_cross')
    if name == 'fn_conv_pooling_reshaping':
        x = keras.Input((6, 3), name='x')
        h = L.ZeroPadding1D(1, name='zero_padding1d')(x)
        h = L.Conv1D(4, 3, activation='relu', name='conv1d')(h)
        h = L.Cropping1D((1, 1), name='cropping1d')(h)
        h = L.MaxPooling1D(2, name='max_pooling1d')(h)
        p = L.AveragePooling1D(2, strides=1, padding='same', name='average_pooling1d')(h)
        gmax = L.GlobalMaxPooling1D(name='global_max_pooling1d')(p)
        f = L.Flatten(name='flatten')(p)
        r = L.Reshape((2, 2), name='reshape')(L.Dense(4, name='dense')(f))
        return keras.Model(x, [gmax, r], name='conv_pooling')
    if name == 'fn_merging':
        a_ids = keras.Input((6,), dtype='int32', name='a_ids')
        b_ids = keras.Input((6,), dtype='int32', name='b_ids')
        c_in = keras.Input((6, 4), name='c_in')
        a = L.Embedding(10, 4, mask_zero=True, name='emb_a')(a_ids)
        b = L.Embedding(10, 4, mask_zero=True, name='emb_b')(b_ids)
        c = L.Dense(4, name='c_dense')(c_in)
        add = L.Add(name='add')([a, b])
        sub = L.Subtract(name='subtract')([a, b])
        mul = L.Multiply(name='multiply')([a, b, c])
        avg = L.Average(name='average')([add, sub])
        mx = L.Maximum(name='maximum')([avg, c])
        mn = L.Minimum(name='minimum')([a, b, add])
        time = L.Concatenate(axis=1, name='concat_time')([mn, c])
        feat = L.Concatenate(axis=-1, name='concat_features')([avg, b])
        lstm = L.LSTM(3, name='lstm_time')(time)
        g1 = L.GlobalAveragePooling1D(name='gap_feat')(feat)
        g2 = L.GlobalAveragePooling1D(name='gap_mul')(mul)
        dot = L.Dot(axes=2, name='dot')([c, mx])
        return keras.Model([a_ids, b_ids, c_in], [lstm, g1, g2, mx, dot], name='merging')
    if name == 'fn_ops_explicit_masks':
        ids = keras.Input((None,), dtype='int32', name='ids')
        ids2 = keras.Input((None,), dtype='int32', name='ids2')
        e = L.Embedding(10, 4, name='embedding')(ids)
        m1 = knp.NotEqual(name='ids_not_pad')(ids, 0)
        m2 = knp.NotEqual(name='ids2_not_pad')(ids2, 0)
        both = knp.LogicalAnd(name='both_valid')(m1, m2)
        seq = L.LSTM(3, return_sequences=True, name='lstm')(e, mask=m1)
        last = L.GRU(2, name='gru')(seq, mask=both)
        g = L.GlobalAveragePooling1D(name='gap')(seq)
        return keras.Model([ids, ids2], [last, g], name='ops_masks')
    if name == 'fn_nested_functional':
        inner_in = keras.Input((None, 4), name='inner_in')
        inner_seq = L.LSTM(3, return_sequences=True, name='inner_lstm')(inner_in)
        inner = keras.Model(inner_in, L.Dense(2, name='inner_dense')(inner_seq), name='inner')
        ids = keras.Input((None,), dtype='int32', name='ids')
        e = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        y = inner(e)
        o = L.Dense(2, name='dense')(L.GlobalAveragePooling1D(name='gap')(y))
        return keras.Model(ids, [o, y], name='nested_functional')
    if name == 'fn_nested_sequential':
        inner = keras.Sequential([keras.Input((None, 3), name='inner_in'), L.GRU(4, return_sequences=True, name='inner_gru'), L.Dense(3, name='inner_dense')], name='inner_seq')
        x = keras.Input((None, 3), name='x')
        m = L.Masking(name='masking')(x)
        y = inner(m)
        o = L.LSTM(2, name='lstm')(y)
        return keras.Model(x, [o, y], name='nested_sequential')
    if name == 'seq_nested_functional':
        inner_in = keras.Input((None, 4), name='inner_in')
        inner = keras.Model(inner_in, L.LSTM(3, return_sequences=True, name='inner_lstm')(inner_in), name='inner_fn')
        return keras.Sequential([keras.Input((None,), dtype='int32', name='ids'), L.Embedding(10, 4, mask_zero=True, name='embedding'), inner, L.GlobalAveragePooling1D(name='gap')], name='seq_outer')
    if name == 'fn_shared_layers':
        a_ids = keras.Input((None,), dtype='int32', name='a_ids')
        b_ids = keras.Input((None,), dtype='int32', name='b_ids')
        emb = L.Embedding(10, 4, mask_zero=True, name='shared_emb')
        proj = L.Dense(4, name='shared_proj')
        lstm = L.LSTM(3, return_sequences=True, name='shared_lstm')
        a = lstm(emb(a_ids))
        b = lstm(proj(proj(emb(b_ids))))
        s = L.Add(name='add')([a, b])
        g = L.GlobalAveragePooling1D(name='gap')(s)
        return keras.Model([a_ids, b_ids], [g, s], name='shared')
    if name == 'fn_same_class_depths':
        t1 = keras.Input((None,), dtype='int32', name='t1')
        t2 = keras.Input((None,), dtype='int32', name='t2')
        e1 = L.Embedding(10, 4, mask_zero=True, name='emb_shallow')(t1)
        e2 = L.Embedding(10, 4, mask_zero=True, name='emb_deep')(t2)
        d2 = L.Dense(4, name='dense_deep')(L.Dense(4, name='dense_deeper')(e2))
        d1 = L.Dense(4, name='dense_shallow')(e1)
        s = L.Add(name='add')([d1, d2])
        o = L.GlobalAveragePooling1D(name='gap')(s)
        return keras.Model([t1, t2], o, name='same_class_depths')
    if name == 'fn_rnn_cells':
        ids = keras.Input((None,), dtype='int32', name='ids')
        e = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        s = L.RNN(L.SimpleRNNCell(4, name='simple_cell'), return_sequences=True, name='rnn_simple')(e)
        seq, h, c = L.RNN(L.LSTMCell(3, name='lstm_cell'), return_sequences=True, return_state=True, name='rnn_lstm')(s)
        g = L.RNN(L.GRUCell(3, reset_after=False, name='gru_cell'), go_backwards=True, name='rnn_gru')(seq)
        stacked = L.StackedRNNCells([L.LSTMCell(3, name='stack_lstm'), L.GRUCell(2, name='stack_gru')], name='stacked')
        st = L.RNN(stacked, return_sequences=True, zero_output_for_mask=True, name='rnn_stacked')(e)
        bi = L.Bidirectional(L.RNN(L.GRUCell(2, name='bi_cell'), return_sequences=True, name='rnn_bi'), name='bidirectional')(st)
        return keras.Model(ids, [g, bi, h, c], name='rnn_cells')
    if name == 'fn_normalization':
        ids = keras.Input((None,), dtype='int32', name='ids')
        x = keras.Input((6, 4), name='x')
        h = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        h = L.BatchNormalization(name='batch_normalization')(h)
        h = L.Rescaling(0.5, offset=0.1, name='rescaling')(h)
        h = L.Normalization(mean=[0.1, -0.2, 0.3, 0], variance=[1, 2, 0.5, 4], name='normalization')(h)
        h = L.Normalization(name='normalization_adapted')(h)
        h = L.UnitNormalization(name='unit_normalization')(h)
        seq = L.LSTM(3, return_sequences=True, name='lstm')(h)
        u = L.GroupNormalization(groups=2, name='group_normalization')(x)
        u = L.RMSNormalization(name='rms_normalization')(u)
        return keras.Model([ids, x], [seq, h, u], name='normalization')
    if name == 'fn_attention_gqa_additive':
        q = keras.Input((None,), dtype='int32', name='q_ids')
        v = keras.Input((None,), dtype='int32', name='v_ids')
        qe = L.Embedding(10, 4, mask_zero=True, name='q_emb')(q)
        ve = L.Embedding(10, 4, mask_zero=True, name='v_emb')(v)
        gqa = L.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2, use_gate=True, name='gqa')(qe, ve)
        add = L.AdditiveAttention(name='additive_attention')([qe, ve])
        cat = L.Concatenate(name='concat')([gqa, add])
        o = L.Dense(2, name='dense')(L.GlobalAveragePooling1D(name='gap')(cat))
        return keras.Model([q, v], [o, gqa, add], name='gqa_additive')
    if name == 'fn_activations_regularization':
        ids = keras.Input((None,), dtype='int32', name='ids')
        emb = L.ReversibleEmbedding(10, 4, mask_zero=True, name='reversible_embedding')
        h = emb(ids)
        h = L.ELU(alpha=0.5, name='elu')(h)
        h = L.LeakyReLU(negative_slope=0.2, name='leaky_re_lu')(h)
        h = L.PReLU(shared_axes=[1], name='p_re_lu')(h)
        h = L.Identity(name='identity')(h)
        h = L.GaussianDropout(0.2, name='gaussian_dropout')(h)
        h = L.AlphaDropout(0.1, name='alpha_dropout')(h)
        h = L.SpatialDropout1D(0.2, name='spatial_dropout1d')(h)
        h = L.ActivityRegularization(l1=0.01, l2=0.001, name='activity_regularization')(h)
        g = L.GlobalAveragePooling1D(name='gap')(h)
        d = L.EinsumDense('ab,bc->ac', output_shape=4, bias_axes='c', activation='tanh', name='einsum_dense')(g)
        logits = emb(d, reverse=True)
        return keras.Model(ids, [logits, h], name='activations_regularization')
    if name == 'fn_rnn_cells_states':
        from keras.src import tree
        ids = keras.Input((None,), dtype='int32', name='ids')
        ctx = keras.Input((5,), name='ctx')
        e = L.Embedding(10, 4, mask_zero=True, name='embedding')(ids)
        stacked = L.StackedRNNCells([L.LSTMCell(3, name='st_lstm'), L.GRUCell(2, name='st_gru')], name='stacked')
        outs = L.RNN(stacked, return_sequences=True, return_state=True, name='rnn_stacked_states')(e)
        seq, states = outs[0], tree.flatten(outs[1:])
        h0 = L.Dense(3, activation='tanh', name='init_h')(ctx)
        c0 = L.Dense(3, name='init_c')(ctx)
        last = L.RNN(L.LSTMCell(3, name='init_cell'), go_backwards=True, name='rnn_init')(seq, initial_state=[h0, c0])
        return keras.Model([ids, ctx], [last, seq, *states], name='rnn_cells_states')
    if name == 'fn_layer_options':
        ids = keras.Input((6,), dtype='int32', name='ids')
        x = keras.Input((6, 4), name='x')
        h = L.Masking(name='masking')(x)
        h = L.BatchNormalization(renorm=True, center=False, momentum=0.9, epsilon=0.01, name='bn_renorm')(h)
        h = L.PReLU(name='p_re_lu')(h)
        h = L.Normalization(mean=[0.1, -0.2, 0.3, 0], variance=[1, 2, 0.5, 4], invert=True, name='normalization_invert')(h)
        h = L.Rescaling([0.5, 1, 2, -1], offset=0.25, name='rescaling')(h)
        g = L.GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=1, use_bias=False, name='gqa')(h, h, h, use_causal_mask=True)
        a = L.AdditiveAttention(use_scale=False, name='additive_attention')([h, h, h])
        emb = L.ReversibleEmbedding(10, 4, mask_zero=True, tie_weights=False, logit_soft_cap=5.0, name='reversible_embedding')
        s = L.Add(name='add')([g, emb(ids)])
        logits = emb(L.GlobalAveragePooling1D(name='gap')(s), reverse=True)
        ed = L.EinsumDense('abc,cde->abde', output_shape=(6, 2, 2), bias_axes='de', name='einsum_dense')(x)
        c = L.ELU(alpha=0.7, name='elu')(h)
        c = L.LeakyReLU(negative_slope=0.05, name='leaky_re_lu')(c)
        c = L.Identity(name='identity')(c)
        c = L.GaussianDropout(0.1, name='gaussian_dropout')(c)
        c = L.AlphaDropout(0.1, name='alpha_dropout')(c)
        c = L.SpatialDropout1D(0.1, name='spatial_dropout1d')(c)
        c = L.ActivityRegularization(l2=0.01, name='activity_regularization')(c)
        c = L.GroupNormalization(groups=2, name='group_normalization')(c)
        seq = L.LSTM(3, return_sequences=True, name='lstm')(c)
        return keras.Model([ids, x], [logits, a, ed, seq], name='layer_options')
    if name == 'seq_cells_norm':
        return keras.Sequential([
            keras.Input((None,), dtype='int32', name='ids'),
            L.Embedding(10, 4, mask_zero=True, name='emb'),
            L.BatchNormalization(name='batch_normalization'),
            L.RNN(L.GRUCell(3, name='gru_cell'), return_sequences=True, name='rnn_gru'),
            L.UnitNormalization(name='unit_normalization'),
            L.PReLU(shared_axes=[1], name='p_re_lu'),
            L.RNN(L.StackedRNNCells([L.SimpleRNNCell(3, name='st_simple'), L.LSTMCell(2, name='st_lstm')], name='stacked'), name='rnn_stacked'),
            L.Dense(2, name='head'),
        ], name='seq_cells_norm')
    raise KeyError(name)


def arr(a):
    import numpy as np
    a = np.asarray(a)
    if a.dtype == bool:
        return {'shape': list(a.shape), 'dtype': 'bool', 'data': [bool(v) for v in a.reshape(-1)]}
    data = [None if np.isnan(v) else float(v) for v in a.astype(np.float32).reshape(-1)]
    return {'shape': list(a.shape), 'dtype': 'float32', 'data': data}


def run(model, case):
    import numpy as np
    from keras.src.backend.common.masking import get_keras_mask
    xs = [np.array(a['data'], dtype=a['dtype']).reshape(a['shape']) for a in case['inputs']]
    from keras.src import tree
    ys = model(xs[0] if len(xs) == 1 else xs, training=False)
    ys = tree.flatten(ys)
    masks = [get_keras_mask(y) for y in ys]
    return {'outputs': [arr(y) for y in ys], 'output_masks': [None if m is None else arr(np.asarray(m).astype(bool)) for m in masks]}


def describe(model):
    """Keras's model.layers (names, in its order) and every weight by path, as Keras holds them."""
    import keras
    return {
        'keras_version': keras.__version__,
        'layers': [l.name for l in model.layers],
        'weights': [dict(path=w.path, **arr(w.numpy())) for w in model.weights],
    }


def cmd_load(d, name):
    import keras
    case = json.load(open(os.path.join(d, f'{name}.inputs.json')))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = keras.saving.load_model(os.path.join(d, f'{name}.keras'))
        res = run(model, case)
    res['name'] = name
    res.update(describe(model))
    json.dump(res, open(os.path.join(d, f'{name}.keras_outputs.json'), 'w'))
    print(f'{name}: loaded in Keras, {len(res["outputs"])} output(s)')


def cmd_native(d, name):
    import keras
    import numpy as np
    case = json.load(open(os.path.join(d, f'{name}.inputs.json')))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = native(name)
        rng = np.random.RandomState(NAMES.index(name) + 101)
        # Variances (BatchNormalization's moving variance, an adapted Normalization's) take absolute values,
        # integer weights (an adapted Normalization's count) a count from 1 to 10.
        values = []
        for v in model.weights:
            a = rng.uniform(-0.6, 0.6, v.shape).astype(np.float32)
            if 'int' in str(v.dtype):
                a = (np.floor(np.abs(a) * 15) + 1).astype(v.dtype)
            elif v.path.endswith('variance'):
                a = np.abs(a)
            values.append(a)
        model.set_weights(values)
        # set_weights does not refresh an adapted Normalization's mean and variance (Keras computes them
        # from its weights in finalize_state, which load_model calls but set_weights does not).
        for layer in model._flatten_layers():
            if layer.__class__.__name__ == 'Normalization':
                layer.finalize_state()
        model.save(os.path.join(d, f'{name}.native.keras'))
        res = run(model, case)
    res['name'] = name
    res.update(describe(model))
    json.dump(res, open(os.path.join(d, f'{name}.native_outputs.json'), 'w'))
    print(f'{name}: native Keras model saved, {len(res["outputs"])} output(s)')


def cmd_all(d, names):
    bad = 0
    for name in names:
        for step in ('load', 'native'):
            r = subprocess.run([sys.executable, os.path.abspath(__file__), step, d, name], capture_output=True, text=True)
            print(r.stdout.strip() or f'{name} {step}: FAILED\n{r.stderr.strip()[-2000:]}')
            bad += r.returncode != 0
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    what, d, *rest = sys.argv[1:]
    if what == 'all':
        cmd_all(d, rest or NAMES)
    elif what == 'load':
        cmd_load(d, rest[0])
    elif what == 'native':
        cmd_native(d, rest[0])
    else:
        raise SystemExit(__doc__)
