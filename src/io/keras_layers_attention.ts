/** Keras import entries for the attention layers (filled in by that family's work). */
import { registerKerasLayers } from './keras_layers.js';

registerKerasLayers({});
