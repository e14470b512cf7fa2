import { tf, ready, loadTfjsModel, modelToKerasConfig } from './src/index.js';
await ready();
async function run(label: string, fn: string, kwargs: Record<string, unknown>, input: tf.Tensor, inputShape: (number | null)[], inDtype = 'float32') {
  const layers = [
    { class_name: 'InputLayer', config: { batch_input_shape: inputShape, dtype: inDtype, sparse: false, ragged: false, name: 'input_1' }, name: 'input_1', inbound_nodes: [] },
    { class_name: 'TFOpLambda', config: { name: 'op', trainable: true, dtype: 'float32', function: fn }, name: 'op', inbound_nodes: [['input_1', 0, 0, { ...kwargs, name: null }]] },
  ];
  const modelTopology = { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: 'Functional', config: { name: 'm', layers, input_layers: [['input_1', 0, 0]], output_layers: [['op', 0, 0]] } } };
  try {
    const m = await loadTfjsModel({ modelTopology, weightSpecs: [], weightData: new ArrayBuffer(0) } as any);
    const y = m.predict(input) as tf.Tensor;
    const cfg = (modelToKerasConfig(m) as any).config.layers[1].config;
    console.log(label, '->', y.dtype, JSON.stringify(y.shape), JSON.stringify(Array.from(y.dataSync()).slice(0, 12)), JSON.stringify(cfg).slice(0, 160));
  } catch (e: any) { console.log(label, '-> ERR', e.constructor.name, e.code, String(e.message).slice(0, 200)); }
}
const x = tf.tensor3d([[[1, 9, 3], [4, 5, 6]], [[7, 2, 8], [0, 11, 2]]]);
await run('argmax axis=None explicit', 'math.argmax', { axis: null }, x, [null, 2, 3]);
await run('argmax default', 'math.argmax', {}, x, [null, 2, 3]);
await run('gather axis=None explicit', 'gather', { indices: [1, 0], axis: null }, x, [null, 2, 3]);
await run('one_hot on_value=1 int', 'one_hot', { depth: 3, on_value: 1, off_value: 0 }, tf.tensor2d([[0, 2], [1, 1]], undefined, 'int32'), [null, 2], 'int32');
await run('one_hot axis=None', 'one_hot', { depth: 3, axis: null }, tf.tensor2d([[0, 2], [1, 1]], undefined, 'int32'), [null, 2], 'int32');
await run('one_hot axis=rank', 'one_hot', { depth: 3, axis: 2 }, tf.tensor2d([[0, 2], [1, 1]], undefined, 'int32'), [null, 2], 'int32');
await run('leaky alpha 2', 'nn.leaky_relu', { alpha: 2.0 }, tf.tensor2d([[-1, 2]]), [null, 2]);
await run('clip crossed', 'clip_by_value', { clip_value_min: 1.0, clip_value_max: 0.0 }, tf.tensor2d([[-1, 2]]), [null, 2]);
await run('l2norm default', 'math.l2_normalize', {}, tf.tensor2d([[3, 4], [0, 0]]), [null, 2]);
await run('l2norm dim', 'math.l2_normalize', { dim: 1 }, tf.tensor2d([[3, 4], [0, 0]]), [null, 2]);
await run('l2norm axis list', 'math.l2_normalize', { axis: [1] }, tf.tensor2d([[3, 4], [0, 0]]), [null, 2]);
await run('cumsum axis none', 'math.cumsum', {}, x, [null, 2, 3]);
await run('reduce_prod keepdims none', 'math.reduce_prod', { axis: 1, keepdims: null }, x, [null, 2, 3]);
await run('reduce_std axis list', 'math.reduce_std', { axis: [1, 2] }, x, [null, 2, 3]);
await run('repeat list', 'repeat', { repeats: [1, 2], axis: 1 }, x, [null, 2, 3]);
await run('stack axis -1', 'stack', { axis: -1 }, x, [null, 2, 3]);
await run('tile', 'tile', { multiples: [1, 2, 1] }, x, [null, 2, 3]);
await run('floordiv', 'math.floordiv', { y: 0.1 }, tf.tensor2d([[7, 1]]), [null, 2]);
await run('round', 'math.round', {}, tf.tensor2d([[0.5, 1.5, 2.5, -0.5]]), [null, 4]);
await run('gelu default', 'nn.gelu', {}, tf.tensor2d([[0.5, -1]]), [null, 2]);
await run('silu beta 1.0', 'nn.silu', { beta: 1.0 }, tf.tensor2d([[0.5, -1]]), [null, 2]);
await run('silu beta 2', 'nn.silu', { beta: 2.0 }, tf.tensor2d([[0.5, -1]]), [null, 2]);
await run('gather batch_dims 1', 'gather', { indices: [1, 0], batch_dims: 1 }, x, [null, 2, 3]);
await run('one_hot int ids float32 dtype', 'one_hot', { depth: 3, dtype: 'int32' }, tf.tensor2d([[0, 2], [1, 1]], undefined, 'int32'), [null, 2], 'int32');
await run('argmax output int32', 'math.argmax', { axis: 1, output_type: 'int32' }, x, [null, 2, 3]);
await run('sign small', 'math.sign', {}, tf.tensor2d([[1e-8, -1e-9]]), [null, 2]);
