/** Keras import entries for the rnn layers (filled in by that family's work). */
import { registerKerasLayers } from './keras_layers.js';

registerKerasLayers({});
