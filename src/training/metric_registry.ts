/**
 * Metrics by name, as Keras's compile resolves them
 * (compile_utils.get_metric and keras/src/metrics/__init__.py): 'accuracy'
 * and 'acc' pick binary, sparse or categorical accuracy from the shapes; the
 * metric functions ('binary_accuracy', 'mse', 'top_k_categorical_accuracy',
 * ...) become mean metrics; class names ('precision', 'Recall', 'auc',
 * 'f1_score', ...) make the class with its defaults. In every case the metric
 * is named with the identifier as given, as in Keras's logs. Names are
 * matched in any style (snake_case, camelCase, the class name).
 */
import { MasqueError, describe } from '../errors.js';
import { NameTable } from './names.js';
import { meanAbsoluteError, meanSquaredError } from './losses.js';
import { Accuracy, MeanMetricWrapper, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, type Metric } from './metrics.js';
import { SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy } from './accuracy_metrics.js';
import { AUC, Precision, Recall } from './confusion_metrics.js';
import { F1Score, FBetaScore } from './f_score_metrics.js';

const METRICS = new NameTable<(name: string) => Metric>([
  ['accuracy', (n) => new Accuracy(n)],
  ['acc', (n) => new Accuracy(n)],
  ['binary_accuracy', (n) => new MeanMetricWrapper(binaryAccuracy, n)],
  ['categorical_accuracy', (n) => new MeanMetricWrapper(categoricalAccuracy, n)],
  ['sparse_categorical_accuracy', (n) => new MeanMetricWrapper(sparseCategoricalAccuracy, n)],
  ['top_k_categorical_accuracy', (n) => new TopKCategoricalAccuracy({ name: n })],
  ['sparse_top_k_categorical_accuracy', (n) => new SparseTopKCategoricalAccuracy({ name: n })],
  ['mean_squared_error', (n) => new MeanMetricWrapper(meanSquaredError, n)],
  ['mse', (n) => new MeanMetricWrapper(meanSquaredError, n)],
  ['mean_absolute_error', (n) => new MeanMetricWrapper(meanAbsoluteError, n)],
  ['mae', (n) => new MeanMetricWrapper(meanAbsoluteError, n)],
  ['precision', (n) => new Precision({ name: n })],
  ['recall', (n) => new Recall({ name: n })],
  ['auc', (n) => new AUC({ name: n })],
  ['f1_score', (n) => new F1Score({ name: n })],
  ['fbeta_score', (n) => new FBetaScore({ name: n })],
]);

/**
 * Resolves a metric: a Keras name in any style (see the file comment) or a
 * Metric object (returned as is). `lossName` is accepted for symmetry with
 * compile(): Keras 3.15.1 resolves 'accuracy' from the shapes of yTrue and
 * yPred, not from the loss, and so does Masque (see `resolveAccuracy`).
 */
export function getMetric(identifier: string | Metric, lossName?: string): Metric {
  void lossName;
  if (typeof identifier !== 'string') {
    const m = identifier as unknown;
    if (m !== null && typeof m === 'object' && typeof (m as Metric).updateState === 'function' && typeof (m as Metric).result === 'function' && typeof (m as Metric).resetState === 'function') return identifier;
    throw new MasqueError('INVALID_ARGUMENT', `getMetric: expected a metric name or a Metric object (with updateState, result and resetState); received ${describe(m)}.`);
  }
  const make = METRICS.get(identifier);
  if (make === undefined) {
    throw new MasqueError(
      'UNKNOWN_NAME',
      `getMetric: unknown metric ${describe(identifier)}.${METRICS.hint(identifier)} Known: accuracy (acc), binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error (mse), mean_absolute_error (mae), precision, recall, auc, f1_score, fbeta_score, or a Metric object.`,
    );
  }
  return make(identifier);
}
