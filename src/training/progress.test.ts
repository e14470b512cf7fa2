import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CallbackList } from './callbacks.js';
import { formatDuration, formatValue, ProgbarLogger, ProgressBar } from './progress.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('progress', () => {
  test('non-TTY: one line per epoch with steps, time and logs', () => {
    const out: string[] = [];
    const c = clock();
    const bar = new ProgressBar({ epochs: 10, steps: 94, write: (s) => out.push(s), isTTY: false, now: c.now });
    bar.onEpochBegin(2);
    for (let s = 1; s <= 94; s++) {
      c.advance(80);
      bar.update(s, { loss: 0.5 });
    }
    assert.deepEqual(out, [], 'nothing is written during the epoch');
    bar.onEpochEnd(2, { loss: 0.51234, accuracy: 0.74214, val_loss: 0.00012 });
    assert.deepEqual(out, ['Epoch 3/10 - 94 steps - 7.5s - loss: 0.5123 - accuracy: 0.7421 - val_loss: 1.2000e-4\n']);
  });

  test('TTY: one line redrawn in place with bar, rate, ETA and logs; throttled; final line ends with a newline', () => {
    const out: string[] = [];
    const c = clock();
    const bar = new ProgressBar({ epochs: 10, steps: 94, write: (s) => out.push(s), isTTY: true, now: c.now, interval: 50 });
    bar.onEpochBegin(2);
    c.advance(100);
    bar.update(1, { loss: 0.9 });
    c.advance(10);
    bar.update(2, { loss: 0.9 }); // within 50 ms: not drawn
    assert.equal(out.length, 1);
    for (let s = 3; s <= 45; s++) {
      c.advance(100);
      bar.update(s, { loss: 0.51234, accuracy: 0.74214 });
    }
    const mid = out[out.length - 1]!;
    assert.ok(mid.startsWith('\r'), 'redraws in place');
    assert.ok(!mid.includes('\n'));
    // 45 steps in 4.41 s -> 10.2 steps/s; 49 steps left -> ETA 5s
    assert.equal(mid.trimEnd(), '\rEpoch 3/10  45/94 [=============>................] 10.2 steps/s ETA 5s loss: 0.5123 accuracy: 0.7421');
    c.advance(1000);
    bar.update(94, { loss: 0.5 });
    bar.onEpochEnd(2, { loss: 0.5, val_loss: 0.6 });
    const end = out.slice(-2);
    assert.equal(end[1], '\n');
    assert.match(end[0]!, /^\rEpoch 3\/10 {2}94\/94 \[={30}\] \d+\.\d steps\/s 5\.4s loss: 0\.5000 val_loss: 0\.6000 *$/);
  });

  test('TTY: a shorter line pads over the previous one; unknown steps show no bar', () => {
    const out: string[] = [];
    const c = clock();
    const bar = new ProgressBar({ epochs: 1, steps: null, write: (s) => out.push(s), isTTY: true, now: c.now, interval: 0 });
    bar.onEpochBegin(0);
    c.advance(1000);
    bar.update(1, { loss: 0.5, accuracy: 0.25 });
    c.advance(1000);
    bar.update(2, { loss: 0.5 });
    assert.ok(out[0]!.startsWith('\rEpoch 1/1  1/? 1.0 steps/s loss: 0.5000'));
    assert.ok(!out[0]!.includes('ETA'));
    assert.equal(out[1]!.length, out[0]!.length, 'padded to erase the longer previous line');
  });

  test('ProgbarLogger drives the bar from fit hooks', async () => {
    const out: string[] = [];
    const c = clock();
    const list = new CallbackList([new ProgbarLogger({ write: (s) => out.push(s), isTTY: false, now: c.now })]);
    list.setParams({ epochs: 2, steps: 3 });
    await list.onTrainBegin();
    for (let e = 0; e < 2; e++) {
      await list.onEpochBegin(e);
      for (let b = 0; b < 3; b++) {
        c.advance(500);
        await list.onBatchEnd(b, { loss: 1 / (b + 1) });
      }
      await list.onEpochEnd(e, { loss: 0.25 });
    }
    await list.onTrainEnd();
    assert.deepEqual(out, ['Epoch 1/2 - 3 steps - 1.5s - loss: 0.2500\n', 'Epoch 2/2 - 3 steps - 1.5s - loss: 0.2500\n']);
  });

  test('formatting helpers', () => {
    assert.equal(formatValue(0.123456), '0.1235');
    assert.equal(formatValue(0), '0.0000');
    assert.equal(formatValue(0.0001234), '1.2340e-4');
    assert.equal(formatDuration(7.56), '7.6s');
    assert.equal(formatDuration(83), '1m 23s');
    assert.equal(formatDuration(3725), '1h 02m');
  });
});
