import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../runtime/tfjs.js';
import { DisposeScope, building, withScope, withScopeAsync } from './dispose_scope.js';

describe('DisposeScope', () => {
  test('frees tracked and owned items once, last tracked first; null passes through; already freed ones are skipped', () => {
    const before = tf.memory().numTensors;
    const order: string[] = [];
    const scope = new DisposeScope();
    const a = scope.track(tf.scalar(1));
    scope.track({ dispose: () => void order.push('source') });
    const [b, c] = scope.own([tf.scalar(2), tf.scalar(3)], [true, false]);
    scope.track(a); // twice
    assert.equal(scope.track(null), null);
    const d = scope.trackAll([tf.scalar(4)])[0]!;
    d.dispose(); // freed early by someone else
    scope.dispose();
    assert.ok(a.isDisposed && b!.isDisposed && !c!.isDisposed);
    assert.deepEqual(order, ['source']);
    c!.dispose();
    scope.dispose(); // a second dispose is a no-op
    assert.equal(tf.memory().numTensors, before);
  });

  test('withScope and withScopeAsync free on return and on throw; building frees only on throw', async () => {
    const before = tf.memory().numTensors;
    assert.equal(withScope((s) => s.track(tf.scalar(5)).dataSync()[0]), 5);
    assert.throws(() => withScope((s) => { s.track(tf.scalar(1)); throw new Error('x'); }), /x/);
    await assert.rejects(withScopeAsync(async (s) => { s.track(tf.scalar(1)); await Promise.resolve(); throw new Error('y'); }), /y/);
    assert.equal(tf.memory().numTensors, before);
    const kept = building((s) => ({ t: s.track(tf.scalar(1)), scope: s }));
    assert.equal(tf.memory().numTensors, before + 1);
    kept.scope.dispose();
    assert.throws(() => building((s) => { s.track(tf.scalar(1)); throw new Error('z'); }), /z/);
    assert.equal(tf.memory().numTensors, before);
  });
});
