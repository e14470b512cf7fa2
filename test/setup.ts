// Loaded before every test file: initialise the default backend (wasm).
import { ready } from '../src/engine/tfjs.js';

await ready();
