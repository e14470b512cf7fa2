// Loaded before every test file: initialise the default backend (wasm).
import { ready } from '../src/runtime/tfjs.js';

await ready();
