import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runParity } from '../../src/parity/run-parity.js';

const FIXTURE = join(process.cwd(), '..', 'shared', 'fixtures', 'moshi-tiny-a');

test('weights rounded to float16 move the logits past the float32 bar and stay inside the float16 one', async () => {
  const r = await runParity(FIXTURE, { provider: 'cpu', intraOpThreads: 1 }, { roundWeights: 'fp16' });
  assert.ok(r.lm.maxTextLogitDiff > 1e-4, `rounding changed the text logits by only ${r.lm.maxTextLogitDiff}`);
  assert.ok(r.lm.maxTextLogitDiff < 2e-2 && r.lm.maxDepformerLogitDiff < 2e-2, `${r.lm.maxTextLogitDiff} / ${r.lm.maxDepformerLogitDiff}`);
  // The rms spreads the same error over every logit: below the max, yet well above float32's noise.
  for (const [rms, max] of [[r.lm.rmsTextLogitDiff, r.lm.maxTextLogitDiff], [r.lm.rmsDepformerLogitDiff, r.lm.maxDepformerLogitDiff]] as const) {
    assert.ok(rms > 1e-4 && rms < max / 2, `rms ${rms} against max ${max}`);
  }
  const logitCheck = r.checks.find((c) => c.name.startsWith('max text logit'));
  assert.equal(logitCheck?.limit, '< 0.02', 'judged by the float16 bar');
});
