/**
 * Progress output for fit. On a TTY a single line is redrawn in place:
 *   Epoch 3/10  45/94 [=============>................] 12.3 steps/s ETA 4s loss: 0.5123 accuracy: 0.7421
 * otherwise (pipes, CI logs, browsers) one line per epoch:
 *   Epoch 3/10 - 94 steps - 7.6s - loss: 0.5123 - accuracy: 0.7421 - val_loss: 0.6012
 * With `epochs: null` (evaluate) the "Epoch" part is left out:
 *   45/94 [=============>................] 12.3 steps/s ETA 4s loss: 0.5123
 *   94 steps - 7.6s - loss: 0.5123 - accuracy: 0.7421
 * Output goes through a `write(s)` sink so tests can capture it.
 */
import { Callback, type Logs } from './callbacks.js';
import { checkKeys } from '../option_keys.js';
import { MasqueError, describe } from '../errors.js';

export interface ProgressBarOptions {
  /** Number of epochs, or null for a single pass without "Epoch i/n" (evaluate). */
  epochs: number | null;
  /** Steps per epoch; null when unknown (no bar, no ETA). */
  steps?: number | null;
  /** Output sink; default process.stdout.write in Node, console.log elsewhere. */
  write?: (s: string) => void;
  /** Redraw one line in place; default process.stdout.isTTY (false in browsers). */
  isTTY?: boolean;
  /** Clock in milliseconds; default performance.now / Date.now. */
  now?: () => number;
  /** Minimum milliseconds between redraws on a TTY (default 50; the last step always draws). */
  interval?: number;
  /** Bar width in characters (default 30). */
  width?: number;
}

type NodeLikeProcess = { stdout?: { isTTY?: boolean; write?: (s: string) => unknown } };

function nodeProcess(): NodeLikeProcess | undefined {
  return typeof process !== 'undefined' ? (process as unknown as NodeLikeProcess) : undefined;
}

function defaultWrite(): (s: string) => void {
  const out = nodeProcess()?.stdout;
  if (out?.write) return (s) => void out.write!(s);
  return (s) => console.log(s.replace(/\n$/, ''));
}

function defaultNow(): () => number {
  return typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();
}

/** Keras's value format: 4 decimals, or exponent notation below 1e-3. */
export function formatValue(v: number): string {
  return Math.abs(v) > 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4);
}

/** Seconds as "7.6s", "1m 23s", "1h 02m". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const PROGRESS_BAR_KEYS = ['epochs', 'steps', 'write', 'isTTY', 'now', 'interval', 'width'] as const;

export class ProgressBar {
  readonly epochs: number | null;
  readonly steps: number | null;
  readonly isTTY: boolean;
  private readonly write: (s: string) => void;
  private readonly now: () => number;
  private readonly interval: number;
  private readonly width: number;
  private epoch = 0;
  private start = 0;
  private lastDraw = -Infinity;
  private lastLength = 0;
  private step = 0;

  constructor(options: ProgressBarOptions) {
    checkKeys(options, PROGRESS_BAR_KEYS, 'ProgressBar');
    const epochs = options?.epochs;
    if (!(epochs === null || (typeof epochs === 'number' && Number.isInteger(epochs) && epochs >= 1))) {
      throw new MasqueError('INVALID_ARGUMENT', `ProgressBar: epochs must be a positive integer, or null for one pass (evaluate); received ${describe(epochs)}.`);
    }
    this.epochs = epochs;
    this.steps = options.steps ?? null;
    this.write = options.write ?? defaultWrite();
    this.isTTY = options.isTTY ?? nodeProcess()?.stdout?.isTTY === true;
    this.now = options.now ?? defaultNow();
    this.interval = options.interval ?? 50;
    this.width = options.width ?? 30;
  }

  /** Call at the start of epoch `epoch` (0-based). */
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.start = this.now();
    this.lastDraw = -Infinity;
    this.lastLength = 0;
    this.step = 0;
  }

  /** Call after `step` steps (1-based) of the current epoch with the running logs. */
  update(step: number, logs: Logs = {}): void {
    this.step = step;
    if (!this.isTTY) return;
    const t = this.now();
    if (t - this.lastDraw < this.interval && step !== this.steps) return;
    this.lastDraw = t;
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? step / elapsed : 0;
    const tail = this.steps !== null && rate > 0 ? ` ETA ${formatEta((this.steps - step) / rate)}` : '';
    this.redraw(`${this.head(step)} ${rate.toFixed(1)} steps/s${tail}${this.values(logs, ' ')}`);
  }

  /** Call at the end of the epoch with its logs (validation included). */
  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const elapsed = (this.now() - this.start) / 1000;
    const steps = this.steps ?? this.step;
    if (this.isTTY) {
      const rate = elapsed > 0 ? steps / elapsed : 0;
      this.redraw(`${this.head(steps)} ${rate.toFixed(1)} steps/s ${formatDuration(elapsed)}${this.values(logs, ' ')}`);
      this.write('\n');
    } else {
      const title = this.epochs === null ? '' : `Epoch ${epoch + 1}/${this.epochs} - `;
      this.write(`${title}${steps} steps - ${formatDuration(elapsed)}${this.values(logs, ' - ')}\n`);
    }
  }

  private head(step: number): string {
    const prefix = this.epochs === null ? '' : `Epoch ${this.epoch + 1}/${this.epochs}  `;
    if (this.steps === null || this.steps <= 0) return `${prefix}${step}/?`;
    const done = Math.min(this.width, Math.floor((this.width * step) / this.steps));
    const bar = step >= this.steps ? '='.repeat(this.width) : `${'='.repeat(Math.max(0, done - 1))}>${'.'.repeat(this.width - Math.max(done, 1))}`;
    return `${prefix}${String(step).padStart(String(this.steps).length)}/${this.steps} [${bar}]`;
  }

  private values(logs: Logs, sep: string): string {
    return Object.entries(logs)
      .filter(([k, v]) => typeof v === 'number' && k !== 'batch' && k !== 'size')
      .map(([k, v]) => `${sep}${k}: ${formatValue(v)}`)
      .join('');
  }

  private redraw(line: string): void {
    const pad = this.lastLength > line.length ? ' '.repeat(this.lastLength - line.length) : '';
    this.write(`\r${line}${pad}`);
    this.lastLength = line.length;
  }
}

/** The fit progress callback: a `ProgressBar` driven by the training hooks (epochs and steps from `params`). */
export class ProgbarLogger extends Callback {
  private bar: ProgressBar | null = null;
  constructor(private readonly options: Omit<ProgressBarOptions, 'epochs' | 'steps'> = {}) {
    super();
    checkKeys(options, PROGRESS_BAR_KEYS.slice(2), 'ProgbarLogger');
  }
  override onTrainBegin(): void {
    this.bar = new ProgressBar({ ...this.options, epochs: this.params?.epochs ?? 1, steps: this.params?.steps ?? null });
  }
  override onEpochBegin(epoch: number): void {
    if (this.bar === null) this.onTrainBegin();
    this.bar!.onEpochBegin(epoch);
  }
  override onBatchEnd(batch: number, logs: Logs = {}): void {
    this.bar?.update(batch + 1, logs);
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.bar?.onEpochEnd(epoch, logs);
  }
}
