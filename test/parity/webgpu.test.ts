import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runParity } from '../../src/parity/run-parity.js';
import { WEBGPU_MISSING, WEBGPU_SKIP as skip } from '../helpers/webgpu.js';

// The WebGPU provider's own kernels (in-place ring scatter, RotaryEmbedding,
// the fused norms, float16 products) run here on whatever Vulkan device the
// machine has: in CI, Mesa's software rasterizer (lavapipe, .ci/run installs
// it). Without one the test is skipped, unless PARLEY_REQUIRE_WEBGPU says the
// machine is meant to have one.
const FIXTURE = join(process.cwd(), '..', 'shared', 'fixtures', 'moshi-tiny-a');
const OPTS = { provider: 'webgpu', intraOpThreads: 1 } as const;

test('a WebGPU adapter is present where the machine is meant to have one', { skip }, () => {
  assert.equal(WEBGPU_MISSING, null);
});

test('on WebGPU, the float32 device-cache graphs match the reference logits and every greedy output', { skip }, async () => {
  const r = await runParity(FIXTURE, OPTS, { precision: 'fp32' });
  assert.ok(r.lm.maxTextLogitDiff < 1e-3 && r.lm.maxDepformerLogitDiff < 1e-3, `${r.lm.maxTextLogitDiff} / ${r.lm.maxDepformerLogitDiff}`);
  assert.equal(r.lm.greedyMatched, r.lm.greedyTotal);
  assert.ok(r.pass, r.checks.filter((c) => !c.pass).map((c) => c.name).join(', '));
});

test('on WebGPU, the float16 device-cache graphs keep the logits inside the float16 bar', { skip }, async () => {
  const r = await runParity(FIXTURE, OPTS, { precision: 'fp16' });
  // float16 arithmetic inside the kernels: well past float32's noise. The rms, not the max: the
  // software device's max sits near the 2e-2 bar (docs/gpu.md, "Parity"), and one outlier moves it.
  assert.ok(r.lm.rmsTextLogitDiff > 1e-4, `rms ${r.lm.rmsTextLogitDiff}: were the products float16?`);
  assert.ok(r.lm.rmsTextLogitDiff < 5e-3 && r.lm.rmsDepformerLogitDiff < 5e-3, `${r.lm.rmsTextLogitDiff} / ${r.lm.rmsDepformerLogitDiff}`);
});
