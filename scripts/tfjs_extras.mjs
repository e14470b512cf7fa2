// The tfjs-core modules Masque needs beyond its ops: every gradient and the
// chained ops (x.add(y) ...). Bundled into src/generated/tfjs_extras.js for
// Node (scripts/build.mjs) and imported straight from tfjs-core's ESM build
// in the browser bundle (scripts/build_browser.mjs).
export const TFJS_EXTRAS_SOURCE = [
  "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
  "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';",
].join('\n');
