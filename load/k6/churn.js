// k6 entry for the "churn" scenario (load/scenarios/churn.ts). Build first; see load/README.md:
//   npm run build && npm run load:audio
//   k6 run -e PARLEY_URL=ws://127.0.0.1:8998/api/chat load/k6/churn.js
import { k6Test } from '../../dist/load/k6/runtime.js';

// open() only works here, in the init stage; the path is relative to this file.
const audio = open(__ENV.PARLEY_AUDIO || '../.cache/speech.opus', 'b');
const test = k6Test('churn', __ENV, audio);

export const options = test.options;

export default function () {
  return test.iteration(__VU, __ITER);
}
