/**
 * Departure 4 (MultiHeadAttention never clears its inputs' masks). Owned by
 * the attention layers' work; empty until MultiHeadAttention lands.
 */
import type { Departure } from './departures.js';

export const attentionDepartures: Departure[] = [];
