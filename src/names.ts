/**
 * Keras's naming of objects from their class names (`keras.src.utils.naming
 * .to_snake_case`): default layer names (`lstm`, `lstm_1`) and the group
 * names of `.keras` weight files. Option names are converted only in
 * `src/io` (keras_names.ts).
 */

/** "MultiHeadAttention" → "multi_head_attention", "LSTM" → "lstm", "GlobalAveragePooling1D" → "global_average_pooling1d". */
export function toSnakeCase(name: string): string {
  return name
    .replace(/[^\p{L}\p{N}_]+/gu, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
