import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../../src/engine/sampling/rng.js';
import { TextTokenSampler, type TextSamplerOptions } from '../../../src/engine/sampling/text-sampler.js';

const base: TextSamplerOptions = {
  temperature: 0,
  topK: 25,
  padId: 3,
  endOfPaddingId: 0,
  textStartId: 10,
  padMult: 0,
  repetitionPenalty: 1,
  repetitionPenaltyContext: 0,
};

// Token 5 leads, token 6 is close behind; tokens 7 and 8 are negative.
const logits = () => Float32Array.from([0, 0, 0, 1, 0, 4, 3.5, -1, -1.2, 0]);

test('the repetition penalty divides the logit of a recent token, so greedy moves on', () => {
  const s = new TextTokenSampler({ ...base, repetitionPenalty: 1.5, repetitionPenaltyContext: 4 }, createRng(1));
  const l = logits();
  assert.equal(s.sample(l, 0, 10), 5); // 4 / 1.5 < 3.5 next time
  assert.equal(s.sample(l, 0, 10), 6);
  assert.deepEqual(Array.from(l), Array.from(logits()), 'logits are restored');
});

test('the penalty multiplies negative logits and applies once per token however often it repeats', () => {
  const s = new TextTokenSampler({ ...base, repetitionPenalty: 2, repetitionPenaltyContext: 8 }, createRng(1));
  const l = Float32Array.from([0, 0, 0, -5, 0, 0, 0, -1, -1.2, 0]).map((v, i) => (i === 7 || i === 8 ? v : -10));
  // 7 leads (-1 vs -1.2); once 7 is seen it is -2 (whether seen once or three times): 8 wins.
  s.observe(7);
  s.observe(7);
  s.observe(7);
  assert.equal(s.sample(l, 0, 10), 8);
  // Then both are penalised once: -2 vs -2.4, 7 wins again.
  assert.equal(s.sample(l, 0, 10), 7);
});

test('the penalty only looks back over the context, and padding tokens do not count towards it', () => {
  const s = new TextTokenSampler({ ...base, repetitionPenalty: 2, repetitionPenaltyContext: 2 }, createRng(1));
  const l = logits();
  s.observe(5);
  s.observe(3); // padding, end-of-padding and text start are skipped
  s.observe(0);
  s.observe(10);
  s.observe(1);
  assert.equal(s.sample(l, 0, 10), 6, '5 is still within the last 2 non-padding tokens');
  // Now the last two are 1 and 6: 5 is out of the window again.
  assert.equal(s.sample(l, 0, 10), 5);
});

test('penalty 1 or context 0 leaves sampling unchanged', () => {
  for (const opts of [{ repetitionPenalty: 1, repetitionPenaltyContext: 8 }, { repetitionPenalty: 3, repetitionPenaltyContext: 0 }]) {
    const s = new TextTokenSampler({ ...base, ...opts }, createRng(1));
    const l = logits();
    assert.deepEqual([s.sample(l, 0, 10), s.sample(l, 0, 10), s.sample(l, 0, 10)], [5, 5, 5]);
  }
});

test('reset forgets the recent tokens', () => {
  const s = new TextTokenSampler({ ...base, repetitionPenalty: 1.5, repetitionPenaltyContext: 4 }, createRng(1));
  const l = logits();
  assert.equal(s.sample(l, 0, 10), 5);
  s.reset();
  assert.equal(s.sample(l, 0, 10), 5);
});

test('pad_mult multiplies the padding probability by exp(pad_mult)', () => {
  const l = Float32Array.from([0, 0, 0, 0, 0]);
  const count = (padMult: number) => {
    const s = new TextTokenSampler({ ...base, temperature: 0.7, topK: 5, padMult }, createRng(5));
    let pads = 0;
    for (let i = 0; i < 20000; i++) if (s.sample(l, 0, 5) === 3) pads++;
    return pads / 20000;
  };
  assert.ok(Math.abs(count(0) - 0.2) < 0.015);
  assert.ok(Math.abs(count(Math.log(4)) - 0.5) < 0.015); // weights 1, 1, 1, 4, 1
  assert.ok(count(-20) < 0.001);
});

test('the same text seed gives the same text tokens', () => {
  const l = Float32Array.from({ length: 300 }, (_, i) => Math.cos(i) * 2);
  const run = (seed: number) => {
    const s = new TextTokenSampler({ ...base, temperature: 0.7, topK: 25, repetitionPenalty: 1.2, repetitionPenaltyContext: 16, padMult: 0.5 }, createRng(seed));
    return Array.from({ length: 40 }, () => s.sample(l, 0, 300));
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
});
