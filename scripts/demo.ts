/** npm run demo: trains the sentiment classifier on the bundled data (see demo/sentiment.ts). */
import { ready } from '../src/index.js';
import { runSentimentDemo } from '../demo/sentiment.js';

await ready();
const r = await runSentimentDemo();
if (r.accuracy < 0.75 || r.paddingDiff > 1e-5 || r.reloadDiff > 1e-5) {
  console.error(`demo: FAILED (accuracy ${r.accuracy}, padding change ${r.paddingDiff}, reload change ${r.reloadDiff})`);
  process.exit(1);
}
