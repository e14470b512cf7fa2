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
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  categoricalHinge,
  cosineSimilarity,
  hinge,
  klDivergence,
  logCosh,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  sparseCategoricalCrossentropy,
  squaredHinge,
} from './losses.js';
import { Accuracy, MeanMetricWrapper, RootMeanSquaredError, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, type Metric } from './metrics.js';
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
  ['mean_absolute_percentage_error', (n) => new MeanMetricWrapper(meanAbsolutePercentageError, n)],
  ['mape', (n) => new MeanMetricWrapper(meanAbsolutePercentageError, n)],
  ['mean_squared_logarithmic_error', (n) => new MeanMetricWrapper(meanSquaredLogarithmicError, n)],
  ['msle', (n) => new MeanMetricWrapper(meanSquaredLogarithmicError, n)],
  ['root_mean_squared_error', (n) => new RootMeanSquaredError({ name: n })],
  ['log_cosh_error', (n) => new MeanMetricWrapper(logCosh, n)],
  ['cosine_similarity', (n) => new MeanMetricWrapper((t, p) => cosineSimilarity(t, p), n)],
  ['hinge', (n) => new MeanMetricWrapper(hinge, n)],
  ['squared_hinge', (n) => new MeanMetricWrapper(squaredHinge, n)],
  ['categorical_hinge', (n) => new MeanMetricWrapper(categoricalHinge, n)],
  ['kl_divergence', (n) => new MeanMetricWrapper(klDivergence, n)],
  ['poisson', (n) => new MeanMetricWrapper(poisson, n)],
  ['binary_crossentropy', (n) => new MeanMetricWrapper((t, p) => binaryCrossentropy(t, p), n)],
  ['bce', (n) => new MeanMetricWrapper((t, p) => binaryCrossentropy(t, p), n)],
  ['categorical_crossentropy', (n) => new MeanMetricWrapper((t, p) => categoricalCrossentropy(t, p), n)],
  ['sparse_categorical_crossentropy', (n) => new MeanMetricWrapper((t, p) => sparseCategoricalCrossentropy(t, p), n)],
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
      `getMetric: unknown metric ${describe(identifier)}.${METRICS.hint(identifier)} Known: accuracy (acc), binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error (mse), mean_absolute_error (mae), mean_absolute_percentage_error (mape), mean_squared_logarithmic_error (msle), root_mean_squared_error, log_cosh_error, cosine_similarity, hinge, squared_hinge, categorical_hinge, kl_divergence, poisson, binary_crossentropy (bce), categorical_crossentropy, sparse_categorical_crossentropy, precision, recall, auc, f1_score, fbeta_score, or a Metric object.`,
    );
  }
  return make(identifier);
}
